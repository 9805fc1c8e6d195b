package dev.mempipe.cli.profile;

import dev.mempipe.cli.BackendChoice;
import dev.mempipe.cli.CliException;
import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.model.AttentionAccuracy;
import dev.mempipe.core.model.DecoderConfig;
import dev.mempipe.core.model.Workload;
import dev.mempipe.core.model.WorkloadProfile;
import dev.mempipe.core.model.WorkloadFigure;
import dev.mempipe.core.model.WorkloadProfiler;
import dev.mempipe.core.placement.Device;
import dev.mempipe.core.placement.DeviceModel;
import dev.mempipe.core.placement.Plan;
import dev.mempipe.core.profile.Bound;
import dev.mempipe.core.profile.OpTotals;
import dev.mempipe.core.profile.ProfileReport;
import dev.mempipe.core.profile.Totals;
import dev.mempipe.core.profile.Units;
import dev.mempipe.ops.SimdBackend;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Step;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.IntSummaryStatistics;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * The measurement behind {@code mempipe profile}: core's {@link WorkloadProfiler} runs each workload around
 * decode steps of the {@link DecoderConfig} preset named like the {@link ModelSize}, on an engine whose steps
 * run on the chosen backend (the CPU backend stays the fallback), and each result becomes a {@link ProfileRow}.
 */
final class ProfileMeasurement {
    /** Time the roofline calibration of a backend may take. */
    private static final Duration CALIBRATION = Duration.ofSeconds(3);

    private ProfileMeasurement() {
    }

    static ProfileRun run(ProfileOptions options, Progress progress) throws CliException {
        DecoderConfig config = DecoderConfig.preset(options.model().cliName());
        try (Backend chosen = BackendChoice.open(options.backend());
             // the CPU fallback is the SIMD backend, found through ServiceLoader like any other
             Backend fallback = chosen.name().equals(SimdBackend.NAME) ? null : BackendChoice.open(SimdBackend.NAME)) {
            boolean onCpu = fallback == null;
            Backend simd = onCpu ? chosen : fallback;
            // a few seconds, not the default 0.9: in a fresh JVM the kernels are not compiled yet at first
            progress.update(1, options.workloads().getFirst().id(), Collections.max(options.contextLengths()),
                    "calibrating " + simd.name());
            Device cpu = new Device(simd, DeviceModel.calibrate(simd, CALIBRATION));
            Engine.Builder builder = Engine.builder().cpu(cpu);
            Device device = cpu;
            if (!onCpu) {
                device = new Device(chosen, calibrateOrBorrow(chosen, cpu.model(), progress));
                builder.device(device).plan(Plan.allOn(device.name()));
            }
            Engine engine = builder.build();
            List<ProfileRow> rows = new ArrayList<>();
            List<Integer> warmUps = new ArrayList<>();
            List<Integer> contexts = options.contextLengths();
            List<Long> asked = contexts.stream().map(Integer::longValue).toList();
            try (WorkloadProfiler profiler = new WorkloadProfiler(engine)) {
                int[] run = {0};
                long[] running = {-1};
                for (Workload workload : options.workloads()) {
                    running[0] = -1;
                    // measured largest context first (see WorkloadProfiler), reported in the order asked
                    List<WorkloadProfile> profiles = profiler.profile(workload, asked, config,
                            WorkloadProfiler.Options.DEFAULT, (context, phase) -> {
                                if (context != running[0]) {
                                    running[0] = context;
                                    run[0]++;
                                }
                                progress.update(run[0], workload.id(), Math.toIntExact(context), phase);
                            });
                    for (int i = 0; i < contexts.size(); i++) {
                        rows.add(row(workload, contexts.get(i), profiles.get(i)));
                        warmUps.add(profiles.get(i).warmUpSteps());
                    }
                }
            }
            DeviceModel roofs = device.model();
            String backends = onCpu ? simd.description() : chosen.description() + " (CPU fallback " + simd.description() + ")";
            return new ProfileRun(machine(), backends, model(options.model(), config), roofs.peakFlopsPerSecond(),
                    roofs.bytesPerSecond(), roofSource(roofs), rows, warmUp(warmUps));
        }
    }

    /** How the runs were warmed up, with the warm-up steps they took. */
    static String warmUp(List<Integer> steps) {
        IntSummaryStatistics s = steps.stream().mapToInt(Integer::intValue).summaryStatistics();
        return WorkloadProfiler.WARM_UP_DESCRIPTION + (s.getCount() == 0 ? ""
                : "; the runs took " + s.getMin() + " to " + s.getMax() + " warm-up steps");
    }

    /** The steps of the measured decode steps, per decode step, with the device and the roofline bound. */
    static ProfileRow row(Workload workload, int context, WorkloadProfile p) {
        ProfileReport measured = p.measured();
        int n = p.steps();
        Map<Step, StepStats> steps = new EnumMap<>(Step.class);
        for (Map.Entry<Step, Totals> e : measured.perStep().entrySet()) {
            Totals t = e.getValue();
            List<OpTotals> ops = measured.perOp().stream().filter(o -> o.step() == e.getKey()).toList();
            String device = String.join("+", ops.stream().map(OpTotals::device).distinct().toList());
            double ridge = ops.isEmpty() ? Double.NaN : ops.getFirst().ridgePoint();
            steps.put(e.getKey(), new StepStats(t.wallNanos() / n, t.bytesRead() / n, t.bytesWritten() / n,
                    t.flops() / n, t.intensity(), Bound.of(t.intensity(), ridge), device, t.fallbacks() > 0));
        }
        AttentionAccuracy accuracy = p.accuracy();
        OptionalDouble error = accuracy == null ? OptionalDouble.empty() : OptionalDouble.of(accuracy.relativeError());
        OptionalDouble mass = accuracy == null ? OptionalDouble.empty() : OptionalDouble.of(accuracy.massCovered());
        List<ProfileFigure> figures = p.figures().stream().map(ProfileMeasurement::figure).toList();
        return new ProfileRow(workload.id(), context, steps, p.stepSeconds(), p.memorySeconds(), error, mass,
                energy(measured, n), figures);
    }

    /** A workload's figure as the reports show it: the value with its unit, and its basis. */
    static ProfileFigure figure(WorkloadFigure f) {
        String value = switch (f.unit()) {
            case "s" -> Units.seconds(f.value());
            case "%" -> String.format(Locale.ROOT, "%.1f%%", f.value());
            default -> String.format(Locale.ROOT, "%.3g", f.value()) + (f.unit().isEmpty() ? "" : " " + f.unit());
        };
        return new ProfileFigure(f.name(), value, f.basis());
    }

    /** Energy of the memory pipeline per decode step, or why there is none. */
    static String energy(ProfileReport measured, int steps) {
        OptionalDouble joules = measured.total().energyJoules();
        if (!measured.energyAvailable() || joules.isEmpty()) {
            return "unavailable (" + measured.energySource() + ")";
        }
        return String.format(Locale.ROOT, "%.4f J (%s)", joules.getAsDouble() / steps, measured.energySource());
    }

    /** A device's model measured now; when it cannot be, the CPU's roofs, with a note saying so. */
    private static DeviceModel calibrateOrBorrow(Backend backend, DeviceModel cpu, Progress progress) {
        try {
            return DeviceModel.calibrate(backend, CALIBRATION);
        } catch (RuntimeException e) {
            progress.note("warning: cannot calibrate " + backend.name() + " (" + e.getMessage()
                    + "); its roofline uses the CPU's numbers");
            return new DeviceModel(backend.name(), cpu.peakFlopsPerSecond(), cpu.bytesPerSecond(),
                    cpu.launchOverheadSeconds(), Map.of(), "declared: the CPU's calibrated roofs, borrowed");
        }
    }

    private static String roofSource(DeviceModel model) {
        return model.source().startsWith("calibrated") ? "measured (" + model.source() + ")"
                : "declared (" + model.source() + ")";
    }

    private static String model(ModelSize size, DecoderConfig config) {
        return size.description() + ", " + config.layers() + " layers, vocab " + config.vocab() + ", "
                + config.weightType() + " weights (seeded random)";
    }

    /** CPU model, cores, memory and OS, as far as the JVM can tell. */
    static String machine() {
        String cpu = "unknown CPU";
        try {
            Path info = Path.of("/proc/cpuinfo");
            if (Files.isReadable(info)) {
                cpu = Files.readAllLines(info).stream().filter(l -> l.startsWith("model name"))
                        .map(l -> l.substring(l.indexOf(':') + 1).strip()).findFirst().orElse(cpu);
            }
        } catch (IOException e) {
            // the CPU stays unknown: the rest of the line still says what the JVM sees
        }
        Runtime rt = Runtime.getRuntime();
        return String.format(Locale.ROOT, "%s, %d cores, %.1f GiB max heap, %s %s, Java %s", cpu,
                rt.availableProcessors(), rt.maxMemory() / (double) (1L << 30), System.getProperty("os.name"),
                System.getProperty("os.arch"), Runtime.version());
    }
}
