package dev.mempipe.core.whatif;

import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.DeviceDescription;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Figure;
import dev.mempipe.spi.Limits;
import dev.mempipe.spi.Op;

import java.util.EnumSet;
import java.util.List;
import java.util.Map;

/**
 * The devices of the what-if comparison, as models. GPUs: data-sheet roofs (FP32 vector peak, since the memory
 * pipeline's ops are not tensor-core GEMMs; HBM bandwidth; board power; host link) plus two stated assumptions
 * about irregular ops a roofline does not cover (top-k and BM25, below). The Alveo U55C: the figures the
 * {@code fpga-xrt} backend describes itself with (its {@code XrtModel}; a test in spi-fpga-xrt checks that these
 * equal them) and the ops it declares. Every figure is labelled {@code model}.
 */
public final class DeviceSheets {
    /**
     * What a roofline does not say about a GPU: how many times its top-k reads the scores, and the share of peak
     * bandwidth BM25's posting gathers reach. Stated assumptions, labelled so in every figure they make.
     */
    public record GpuAssumptions(double topKPasses, double bm25Efficiency) {
        /** A radix select reads the scores about four times; posting gathers reach a tenth of peak bandwidth. */
        public static final GpuAssumptions DEFAULT = new GpuAssumptions(4, 0.1);

        public GpuAssumptions {
            if (!(topKPasses >= 1) || Double.isInfinite(topKPasses)) {
                throw new IllegalArgumentException("topKPasses must be finite and >= 1, got " + topKPasses);
            }
            if (!(bm25Efficiency > 0 && bm25Efficiency <= 1)) {
                throw new IllegalArgumentException("bm25Efficiency must be in (0, 1], got " + bm25Efficiency);
            }
        }
    }

    /** FPGA-GPU peer-to-peer over PCIe, from the published GPU+FPGA demo. */
    public static final double P2P_BYTES_PER_SECOND = 7e9;

    private static final double GPU_LAUNCH_SECONDS = 5e-6;
    private static final double PCIE_GEN3_X16 = 8e9 * 16 * 128 / 130 / 8;
    private static final double PCIE_GEN4_X16 = 16e9 * 16 * 128 / 130 / 8;
    private static final double PCIE_GEN5_X16 = 32e9 * 16 * 128 / 130 / 8;

    private DeviceSheets() {
    }

    /** AMD Instinct MI210 (PCIe, 64 GB HBM2e): the GPU of the published GPU+FPGA system. */
    public static DeviceSheet mi210() {
        return mi210(GpuAssumptions.DEFAULT);
    }

    public static DeviceSheet mi210(GpuAssumptions assumed) {
        return gpu(assumed, "MI210 (model)", 22.6e12, 1.6384e12, 64L << 30, PCIE_GEN4_X16, "PCIe Gen4 x16", 300, 40,
                "AMD Instinct MI210 data sheet");
    }

    /** NVIDIA A100 80 GB (SXM). */
    public static DeviceSheet a100() {
        return a100(GpuAssumptions.DEFAULT);
    }

    public static DeviceSheet a100(GpuAssumptions assumed) {
        return gpu(assumed, "A100 (model)", 19.5e12, 2.039e12, 80L << 30, PCIE_GEN4_X16, "PCIe Gen4 x16", 400, 50,
                "NVIDIA A100 80GB SXM data sheet");
    }

    /** NVIDIA H100 (SXM5, 80 GB HBM3). */
    public static DeviceSheet h100() {
        return h100(GpuAssumptions.DEFAULT);
    }

    public static DeviceSheet h100(GpuAssumptions assumed) {
        return gpu(assumed, "H100 (model)", 67e12, 3.35e12, 80L << 30, PCIE_GEN5_X16, "PCIe Gen5 x16", 700, 70,
                "NVIDIA H100 SXM5 data sheet");
    }

    public static List<DeviceSheet> gpus() {
        return List.of(mi210(), a100(), h100());
    }

    /** A GPU by name: mi210, a100 or h100. */
    public static DeviceSheet gpu(String name, GpuAssumptions assumed) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "mi210" -> mi210(assumed);
            case "a100" -> a100(assumed);
            case "h100" -> h100(assumed);
            default -> throw new IllegalArgumentException("unknown GPU '" + name + "'; GPUs: mi210, a100, h100");
        };
    }

    /**
     * The Alveo U55C as the fpga-xrt backend models it: keys at
     * {@code min(clock x 64 B x channels, channels x 14.375 GB/s)}, 32 multiply-adds per word per channel per
     * cycle, a top-k unit taking 16 scores a cycle, BM25 one (term, tf) pair a cycle on each of 4 channels.
     */
    public static DeviceSheet u55c(double clockHz, int channels) {
        String clock = (clockHz / 1e6) + " MHz";
        Figure keys = Figure.model(Math.min(clockHz * 64 * channels, channels * 14.375e9), "min(" + clock
                + " x 64 B x " + channels + " channels, " + channels + " HBM2 channels x 14.375 GB/s): U55C datasheet"
                + " and the score kernel's II=1 word loop");
        Figure flops = Figure.model(2.0 * 32 * channels * clockHz, "score kernel, I16: 32 MAC per word per channel"
                + " per cycle at " + clock);
        Figure launch = Figure.model(30e-6, "XRT run start + wait, typical order of magnitude; not measured here");
        Map<Op, Figure> ops = Map.of(
                Op.TOP_K, Figure.model(16.0 * Float.BYTES * clockHz, "top-k unit: 16 scores a cycle at " + clock),
                Op.BM25_SCORE, Figure.model(4.0 * 8 * clockHz, "bm25 kernel: one (term, tf) pair per cycle on each"
                        + " of 4 channels at " + clock));
        Figure link = Figure.model(PCIE_GEN3_X16, "PCIe Gen3 x16: 16 lanes x 8 GT/s, 128b/130b");
        DeviceDescription d = new DeviceDescription("Alveo U55C (model, " + clock + ", " + channels + " HBM channels)",
                flops, keys, launch, ops, Figure.model(16L << 30, "U55C datasheet: 16 GB HBM2"),
                new DeviceDescription.HostLink(link, link, Figure.model(2e-6, "PCIe DMA setup, typical order of"
                        + " magnitude; not measured here")));
        return new DeviceSheet(d, u55cCapabilities(),
                Figure.model(150, "U55C data sheet: 150 W maximum board power (taken while busy: an upper bound)"),
                Figure.model(25, "assumed idle board power; not a data-sheet figure"));
    }

    /** The ops the fpga-xrt backend declares (its XrtBackend.declared(); checked equal by a test there). */
    static Capabilities u55cCapabilities() {
        EnumSet<ElementType> all = EnumSet.allOf(ElementType.class);
        return Capabilities.builder()
                .op(Op.DOT, all, Capabilities.FLOAT_TYPES, Limits.NONE)
                .op(Op.QUEST_BOUND, all, Capabilities.FLOAT_TYPES, Limits.NONE)
                .op(Op.INDEXER_SCORE, all, Capabilities.FLOAT_TYPES, Limits.NONE)
                .op(Op.TOP_K, all, Capabilities.FLOAT_TYPES, Limits.NONE.withMaxK(2048))
                .op(Op.THRESHOLD, all, Capabilities.FLOAT_TYPES, Limits.NONE)
                .op(Op.GROUP_MAX, all, Capabilities.FLOAT_TYPES, Limits.NONE)
                .op(Op.BM25_SCORE, EnumSet.of(ElementType.F32), Capabilities.FLOAT_TYPES,
                        Limits.NONE.withMaxTermId(Integer.MAX_VALUE).withMaxRows(Integer.MAX_VALUE)
                                .withMaxQueryTerms(256))
                .deviceMemoryBytes(16L << 30)
                .build();
    }

    private static DeviceSheet gpu(GpuAssumptions assumed, String name, double fp32Flops, double bandwidth, long capacity, double link,
                                   String linkName, double busyWatts, double idleWatts, String sheet) {
        Map<Op, Figure> ops = Map.of(
                Op.TOP_K, Figure.model(bandwidth / assumed.topKPasses(), "assumed: top-k reads the scores "
                        + assumed.topKPasses() + " times (not a data-sheet figure)"),
                Op.BM25_SCORE, Figure.model(bandwidth * assumed.bm25Efficiency(), "assumed: posting gathers reach "
                        + 100 * assumed.bm25Efficiency() + "% of peak bandwidth (not a data-sheet figure)"));
        DeviceDescription d = new DeviceDescription(name,
                Figure.model(fp32Flops, sheet + ": FP32 vector peak"),
                Figure.model(bandwidth, sheet + ": HBM bandwidth"),
                Figure.model(GPU_LAUNCH_SECONDS, "kernel launch, typical order of magnitude"), ops,
                Figure.model(capacity, sheet + ": memory"),
                new DeviceDescription.HostLink(Figure.model(link, linkName), Figure.model(link, linkName),
                        Figure.model(2e-6, "DMA setup, typical order of magnitude")));
        Capabilities caps = Capabilities.builder().ops(EnumSet.allOf(Op.class), EnumSet.allOf(ElementType.class))
                .deviceMemoryBytes(capacity).build();
        return new DeviceSheet(d, caps, Figure.model(busyWatts, sheet + ": board power"),
                Figure.model(idleWatts, "assumed idle board power; not a data-sheet figure"));
    }
}
