package dev.mempipe.fpga;

import dev.mempipe.spi.DeviceDescription;
import dev.mempipe.spi.Figure;
import dev.mempipe.spi.Op;

import java.util.Map;

/**
 * The Alveo U55C as a model, every figure labelled {@code model}: nothing here was measured, because this
 * project has no card (docs/fpga.md). Keys stream at one 512-bit word per cycle per HBM channel, so
 * {@code keys/s = min(clock x 64 B x channels, channels x 14.375 GB/s) / bytes per key}; the host link is PCIe
 * Gen3 x16. Immutable.
 *
 * @param clockHz  kernel clock (300 MHz unless set with {@code -Dmempipe.xrt.clockMHz})
 * @param channels HBM channels the score kernel's keys are spread over (8 unless set with
 *                 {@code -Dmempipe.xrt.channels}; 16 and 32 are the other builds, score16 and score32)
 */
record XrtModel(double clockHz, int channels) {
    static final double HBM_CHANNEL_BYTES_PER_S = 14.375e9;
    static final int HBM_CHANNELS = 32;
    static final long HBM_BYTES = 16L << 30;
    static final double PCIE_GEN3_X16_BYTES_PER_S = 8e9 * 16 * 128 / 130 / 8;

    XrtModel {
        if (!(clockHz > 0)) {
            throw new IllegalArgumentException("clockHz must be > 0, got " + clockHz);
        }
        if (!XrtKernels.SCORE_CHANNELS.contains(channels)) {
            throw new IllegalArgumentException("channels must be one of the score kernel's builds "
                    + XrtKernels.SCORE_CHANNELS + ", got " + channels);
        }
    }

    static XrtModel fromSystemProperties() {
        double mhz = Double.parseDouble(System.getProperty("mempipe.xrt.clockMHz", "300"));
        int channels = Integer.parseInt(System.getProperty("mempipe.xrt.channels", "8"));
        return new XrtModel(mhz * 1e6, channels);
    }

    /** Bytes/s the score kernel reads keys at: the smaller of what the datapath takes and what HBM gives. */
    double keyBytesPerSecond() {
        return Math.min(clockHz * KeyLayout.WORD_BYTES * channels, channels * HBM_CHANNEL_BYTES_PER_S);
    }

    DeviceDescription describe() {
        String clock = (clockHz / 1e6) + " MHz";
        Figure keys = Figure.model(keyBytesPerSecond(), "min(" + clock + " x 64 B x " + channels + " channels, "
                + channels + " HBM2 channels x 14.375 GB/s): U55C datasheet and the score kernel's II=1 word loop");
        // I16 keys: 32 multiply-adds per 512-bit word per channel per cycle
        Figure flops = Figure.model(2.0 * 32 * channels * clockHz, "score kernel, I16: 32 MAC per word per channel"
                + " per cycle at " + clock);
        Figure launch = Figure.model(30e-6, "XRT run start + wait, typical order of magnitude; not measured here");
        Map<Op, Figure> ops = Map.of(
                Op.TOP_K, Figure.model(16.0 * Float.BYTES * clockHz, "top-k unit: 16 scores a cycle at " + clock),
                Op.BM25_SCORE, Figure.model(4.0 * 8 * clockHz, "bm25 kernel: one (term, tf) pair per cycle on each"
                        + " of 4 channels at " + clock));
        Figure capacity = Figure.model(HBM_BYTES, "U55C datasheet: 16 GB HBM2");
        Figure link = Figure.model(PCIE_GEN3_X16_BYTES_PER_S, "PCIe Gen3 x16: 16 lanes x 8 GT/s, 128b/130b");
        Figure latency = Figure.model(2e-6, "PCIe DMA setup, typical order of magnitude; not measured here");
        return new DeviceDescription("Alveo U55C (model, " + clock + ", " + channels + " HBM channels)", flops, keys,
                launch, ops, capacity, new DeviceDescription.HostLink(link, link, latency));
    }
}
