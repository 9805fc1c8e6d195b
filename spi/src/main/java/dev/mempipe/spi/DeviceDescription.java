package dev.mempipe.spi;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * What a backend says about the hardware behind it, for the planner's cost model: the roofs, per-op
 * throughput where a roofline is too coarse (a top-k sorter, a BM25 unit), how much it holds and the link to
 * the host. Every number is a {@link Figure} labelled {@code measured} or {@code model}. A backend that
 * describes nothing ({@link Backend#deviceDescription()} returns {@link #unknown}) is calibrated by the engine
 * with short runs of the ops it declares.
 *
 * <p>Immutable.
 *
 * @param peakFlops        FLOP/s of the compute roof, or null when unknown
 * @param memoryBandwidth  bytes/s of the device memory roof, or null when unknown
 * @param launchSeconds    fixed cost of one op call, or null when unknown
 * @param opThroughput     per op, the bytes/s it sustains (compulsory traffic), replacing the memory roof for that
 *                         op: a top-k sorter or a BM25 unit is not a roofline (optional)
 * @param capacityBytes    device memory, or null for the host
 * @param hostLink         the link to the host, or null for the host itself
 */
public record DeviceDescription(String device, Figure peakFlops, Figure memoryBandwidth, Figure launchSeconds,
                                Map<Op, Figure> opThroughput, Figure capacityBytes, HostLink hostLink) {

    /**
     * The link between the device and the host memory.
     *
     * @param toDevice   bytes/s host -> device
     * @param fromDevice bytes/s device -> host
     * @param latency    seconds per transfer
     */
    public record HostLink(Figure toDevice, Figure fromDevice, Figure latency) {
        public HostLink {
            Objects.requireNonNull(toDevice, "toDevice");
            Objects.requireNonNull(fromDevice, "fromDevice");
            Objects.requireNonNull(latency, "latency");
        }
    }

    public DeviceDescription {
        Objects.requireNonNull(device, "device");
        opThroughput = opThroughput == null || opThroughput.isEmpty() ? Map.of()
                : Collections.unmodifiableMap(new EnumMap<>(opThroughput));
    }

    /** Nothing known: the engine calibrates. */
    public static DeviceDescription unknown(String device) {
        return new DeviceDescription(device, null, null, null, Map.of(), null, null);
    }

    /** Whether both roofs are given (the engine then needs no calibration). */
    public boolean hasRoofs() {
        return peakFlops != null && memoryBandwidth != null;
    }
}
