package dev.mempipe.core.whatif;

import dev.mempipe.core.placement.Device;
import dev.mempipe.core.placement.DeviceModel;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.DeviceDescription;
import dev.mempipe.spi.Figure;
import dev.mempipe.spi.Op;

import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * A device as the what-if planner sees it: its {@link DeviceDescription} (roofs, per-op throughput, host link),
 * the ops it declares, and its power while busy and idle. Every number is a labelled {@link Figure}; for the
 * devices of {@link DeviceSheets} they are models (data sheets and stated assumptions). Immutable.
 *
 * @param description  roofs, per-op throughput, capacity and host link (peakFlops, memoryBandwidth and
 *                     launchSeconds must be given)
 * @param capabilities the ops the device runs, with their limits
 * @param busyWatts    board power while it computes (null, with idleWatts null, when unknown: energy is then NaN)
 * @param idleWatts    board power while it waits
 */
public record DeviceSheet(DeviceDescription description, Capabilities capabilities, Figure busyWatts,
                          Figure idleWatts) {
    public DeviceSheet {
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(capabilities, "capabilities");
        if (!description.hasRoofs() || description.launchSeconds() == null) {
            throw new IllegalArgumentException("device sheet '" + description.device() + "' needs peakFlops,"
                    + " memoryBandwidth and launchSeconds, got " + description);
        }
        if ((busyWatts == null) != (idleWatts == null)) {
            throw new IllegalArgumentException("device sheet '" + description.device() + "': give both busy and idle"
                    + " power, or neither (unknown)");
        }
        if (busyWatts != null && !(busyWatts.value() >= idleWatts.value())) {
            throw new IllegalArgumentException("device sheet '" + description.device() + "': power must satisfy"
                    + " 0 <= idle <= busy, got idle " + idleWatts.value() + " W, busy " + busyWatts.value() + " W");
        }
    }

    public String name() {
        return description.device();
    }

    /** The roofline model the planner predicts with: the description's figures, per-op throughput included. */
    public DeviceModel model() {
        double flops = description.peakFlops().value();
        EnumMap<Op, DeviceModel.Throughput> perOp = new EnumMap<>(Op.class);
        for (Map.Entry<Op, Figure> e : description.opThroughput().entrySet()) {
            perOp.put(e.getKey(), new DeviceModel.Throughput(flops, e.getValue().value()));
        }
        return new DeviceModel(name(), flops, description.memoryBandwidth().value(),
                description.launchSeconds().value(), perOp, "model: " + description.memoryBandwidth().note());
    }

    /** The device for the planner, backed by a backend that declares these capabilities and runs nothing. */
    public Device device() {
        return new Device(new DescribedOnlyBackend(name(), capabilities, description), model());
    }

    /**
     * A device that is present, from its calibrated model: roofs and launch as calibrated (labelled
     * {@code measured}), every op it declares, power unknown.
     */
    public static DeviceSheet calibrated(dev.mempipe.spi.Backend backend, DeviceModel model) {
        DeviceDescription d = new DeviceDescription(model.name() + " (calibrated)",
                Figure.measured(model.peakFlopsPerSecond(), "calibrated here (" + model.source() + ")"),
                Figure.measured(model.bytesPerSecond(), "calibrated here"),
                Figure.measured(model.launchOverheadSeconds(), "calibrated here"), Map.of(), null,
                null);
        return new DeviceSheet(d, backend.capabilities(), null, null);
    }

    /** Lines describing every figure with its label. */
    public String describe() {
        StringBuilder b = new StringBuilder(name()).append('\n');
        line(b, "compute", description.peakFlops(), "FLOP/s");
        line(b, "memory", description.memoryBandwidth(), "B/s");
        line(b, "launch", description.launchSeconds(), "s");
        description.opThroughput().forEach((op, f) -> line(b, op.contractName(), f, "B/s"));
        if (description.capacityBytes() != null) {
            line(b, "capacity", description.capacityBytes(), "B");
        }
        if (description.hostLink() != null) {
            line(b, "host link", description.hostLink().toDevice(), "B/s");
        }
        if (busyWatts != null) {
            line(b, "busy power", busyWatts, "W");
            line(b, "idle power", idleWatts, "W");
        } else {
            b.append("  power        unknown: energy not modelled for this device\n");
        }
        b.append("  ops: ").append(capabilities.ops()).append('\n');
        return b.toString();
    }

    private static void line(StringBuilder b, String what, Figure f, String unit) {
        b.append(String.format(java.util.Locale.ROOT, "  %-12s %10.4g %-6s %s: %s%n", what, f.value(), unit,
                f.source().name().toLowerCase(java.util.Locale.ROOT), f.note()));
    }
}
