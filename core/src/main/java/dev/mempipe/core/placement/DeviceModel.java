package dev.mempipe.core.placement;

import dev.mempipe.core.profile.Bound;
import dev.mempipe.core.profile.OpCost;
import dev.mempipe.core.profile.Units;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Op;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * A roofline <em>model</em> of one device: how long it is predicted to take for an op of a given cost. Its
 * numbers are either declared (a data sheet's peak FLOP/s and memory bandwidth) or measured by a short
 * {@link #calibrate calibration}; either way a prediction is an estimate, and {@link #source()} says which
 * kind of estimate it is.
 *
 * <p>{@code predict = max(flops / peak, bytes / bandwidth) + launch overhead}; an op with its own measured
 * throughput ({@link #withOpThroughput}) uses that instead of the device-wide roofs.
 *
 * <p>Immutable.
 *
 * @param name                   the device (the backend's name)
 * @param peakFlopsPerSecond     arithmetic roof, {@code > 0}
 * @param bytesPerSecond         memory bandwidth roof, {@code > 0}
 * @param launchOverheadSeconds  fixed cost of starting one op (kernel launch, call overhead), {@code >= 0}
 * @param opThroughput           measured throughput of particular ops, overriding the roofs for them
 * @param source                 where the numbers come from, in words, e.g. {@code "declared roofline"}
 */
public record DeviceModel(String name, double peakFlopsPerSecond, double bytesPerSecond, double launchOverheadSeconds,
                          Map<Op, Throughput> opThroughput, String source) {

    /**
     * The throughput one op reached on this device.
     *
     * @param flopsPerSecond FLOPs per second the op sustained, {@code > 0}
     * @param bytesPerSecond bytes per second the op sustained, {@code > 0}
     */
    public record Throughput(double flopsPerSecond, double bytesPerSecond) {
        public Throughput {
            requirePositive("flopsPerSecond", flopsPerSecond);
            requirePositive("bytesPerSecond", bytesPerSecond);
        }
    }

    public DeviceModel {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(source, "source");
        requirePositive("peakFlopsPerSecond", peakFlopsPerSecond);
        requirePositive("bytesPerSecond", bytesPerSecond);
        if (!(launchOverheadSeconds >= 0) || Double.isInfinite(launchOverheadSeconds)) {
            throw new IllegalArgumentException("launchOverheadSeconds must be finite and >= 0, got " + launchOverheadSeconds);
        }
        opThroughput = opThroughput.isEmpty() ? Map.of() : Collections.unmodifiableMap(new EnumMap<>(opThroughput));
    }

    /** A model from declared numbers (a data sheet or a roofline measured elsewhere). */
    public static DeviceModel declared(String name, double peakFlopsPerSecond, double bytesPerSecond,
                                       double launchOverheadSeconds) {
        return new DeviceModel(name, peakFlopsPerSecond, bytesPerSecond, launchOverheadSeconds, Map.of(),
                "declared roofline");
    }

    /**
     * The model of {@code backend}: the numbers its {@link Backend#deviceDescription()} gives, each labelled
     * {@code measured} or {@code model} as the backend labels it, and each missing one measured with the ops the
     * backend declares: a streaming {@code dot} scan gives the memory bandwidth, a {@code project}
     * gives the FLOP rate, a tiny {@code dot} gives the launch overhead. Takes about 0.9 s (sizes grow until one run lasts a few milliseconds; the best run
     * at the largest size counts). The result is as good as one short measurement on a possibly busy machine:
     * a model, not a benchmark. In a fresh JVM on a loaded machine the JIT may not compile Vector API kernels
     * within that time and the rates come out low; a budget of a few seconds
     * ({@link #calibrate(Backend, java.time.Duration)}) gives steadier numbers.
     *
     * @throws IllegalArgumentException when a number is neither described nor measurable with a declared op
     */
    public static DeviceModel calibrate(Backend backend) {
        return Calibration.run(backend, Calibration.DEFAULT_BUDGET);
    }

    /** {@link #calibrate(Backend)} with another time budget: longer gives steadier numbers. */
    public static DeviceModel calibrate(Backend backend, java.time.Duration budget) {
        return Calibration.run(backend, budget);
    }

    /** A copy of this model in which {@code op} is predicted from its own measured throughput. */
    public DeviceModel withOpThroughput(Op op, Throughput throughput) {
        EnumMap<Op, Throughput> map = new EnumMap<>(Op.class);
        map.putAll(opThroughput);
        map.put(op, throughput);
        return new DeviceModel(name, peakFlopsPerSecond, bytesPerSecond, launchOverheadSeconds, map, source);
    }

    /** FLOPs per byte at which the two roofs meet: ops of lower intensity are memory-bound here. */
    public double ridgePoint() {
        return peakFlopsPerSecond / bytesPerSecond;
    }

    /** Which roof limits an op of this cost on this device. */
    public Bound bound(OpCost cost) {
        return Bound.of(cost.intensity(), ridgePoint());
    }

    /** Predicted seconds for work of this cost on the device-wide roofs; 0 for no work. */
    public double predictSeconds(OpCost cost) {
        return predict(cost, peakFlopsPerSecond, bytesPerSecond);
    }

    /** Predicted seconds for {@code op} of this cost, from the op's own throughput when measured. */
    public double predictSeconds(Op op, OpCost cost) {
        Throughput t = op == null ? null : opThroughput.get(op);
        return t == null ? predictSeconds(cost) : predict(cost, t.flopsPerSecond(), t.bytesPerSecond());
    }

    private double predict(OpCost cost, double flopsPerSecond, double bytesPerSecondRoof) {
        if (cost.flops() == 0 && cost.bytesMoved() == 0) {
            return 0;
        }
        return Math.max(cost.flops() / flopsPerSecond, cost.bytesMoved() / bytesPerSecondRoof) + launchOverheadSeconds;
    }

    /** One line: name, roofs, ridge point and source. */
    public String describe() {
        return String.format(java.util.Locale.ROOT, "%s: %s, %s, ridge %.2f FLOP/B, launch %s (%s)", name,
                Units.rate(peakFlopsPerSecond, "FLOP"), Units.rate(bytesPerSecond, "B"), ridgePoint(),
                Units.seconds(launchOverheadSeconds), source);
    }

    private static void requirePositive(String name, double value) {
        if (!(value > 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(name + " must be finite and > 0, got " + value);
        }
    }
}
