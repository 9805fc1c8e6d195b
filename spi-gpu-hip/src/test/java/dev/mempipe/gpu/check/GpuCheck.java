package dev.mempipe.gpu.check;

import dev.mempipe.core.placement.DeviceModel;
import dev.mempipe.core.placement.TransferModel;
import dev.mempipe.gpu.CudaDriver;
import dev.mempipe.gpu.GpuBackend;
import dev.mempipe.gpu.GpuBackendProvider;
import dev.mempipe.gpu.GpuDriver;
import dev.mempipe.gpu.Hip;
import dev.mempipe.gpu.KernelCode;
import dev.mempipe.gpu.Nvrtc;
import dev.mempipe.ops.SimdBackend;
import dev.mempipe.spi.Availability;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;

import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The device check that {@code gpu-check.sh OUTDIR} runs from the bundle ({@code -Pgpu-bundle}): every item of
 * issue 11's "On a real NVIDIA GPU" list, written to {@code OUTDIR/results.json} and {@code OUTDIR/gpu-check.log}
 * within a time budget (default 220 s, so the script ends within 4 minutes). Without a GPU it runs what the CPU
 * can (the kit, the fault paths, the plan and the harness of the figures) on gsim, and every GPU-only item says
 * {@code unavailable: <reason>}.
 *
 * <pre>
 * GpuCheck OUTDIR [--gsim LIB | --gsim-fallback LIB] [--warp 32|64] [--ops dot,topK] [--budget-seconds S]
 *                 [--no-profile]
 * </pre>
 * {@code --gsim} runs on gsim; {@code --gsim-fallback} only when no CUDA device is usable. {@code --ops} keeps
 * only those ops' kit tests (for a quick run). Exit code 0 when nothing failed, 1 otherwise, 2 for bad usage.
 */
public final class GpuCheck {
    static final String CHILD = "--child";
    private static final String CHILD_PREFIX = "CHILD\t";

    private final CheckReport report;
    private final CheckTarget target;
    private final Set<String> ops;
    private final Instant deadline;
    private final boolean profile;
    private final String noGpuReason;
    private boolean failed;
    private double measuredBandwidth = Double.NaN;
    private double measuredLaunch = Double.NaN;

    private GpuCheck(CheckReport report, CheckTarget target, Set<String> ops, Instant deadline, boolean profile,
                     String noGpuReason) {
        this.report = report;
        this.target = target;
        this.ops = ops;
        this.deadline = deadline;
        this.profile = profile;
        this.noGpuReason = noGpuReason;
    }

    public static void main(String[] args) throws Exception {
        int code = run(args, System.out);
        System.out.flush();
        System.exit(code);
    }

    /** Runs the check (or, with {@code --child MODE}, the fatal-fault child); returns the exit code. */
    public static int run(String[] args, PrintStream console) throws Exception {
        List<String> list = Arrays.asList(args);
        if (list.isEmpty() || list.getFirst().startsWith("-") && !list.getFirst().equals(CHILD)) {
            console.println("usage: GpuCheck OUTDIR [--gsim LIB | --gsim-fallback LIB] [--warp 32|64] [--ops LIST]"
                    + " [--budget-seconds S] [--no-profile]");
            return 2;
        }
        String gsim = option(list, "--gsim");
        String fallback = option(list, "--gsim-fallback");
        int warp = Integer.parseInt(option(list, "--warp") == null ? "32" : option(list, "--warp"));
        CheckTarget target;
        String noGpu = null;
        if (gsim != null) {
            target = CheckTarget.gsim(Path.of(gsim), warp);
            noGpu = "asked to run on gsim (--gsim)";
        } else {
            Availability cuda = new GpuBackendProvider().availability();
            if (cuda.available() || fallback == null) {
                target = CheckTarget.cuda();
                noGpu = cuda.available() ? null : cuda.reason();
            } else {
                target = CheckTarget.gsim(Path.of(fallback), warp);
                noGpu = cuda.reason();
            }
        }
        if (list.getFirst().equals(CHILD)) {
            Map<String, String> found = FaultCheck.fatal(target, list.get(1));
            found.forEach((k, v) -> console.println(CHILD_PREFIX + k + "\t" + v.replace("\n", " ")));
            return 0;
        }
        Set<String> ops = new LinkedHashSet<>();
        if (option(list, "--ops") != null) {
            ops.addAll(List.of(option(list, "--ops").split(",")));
        }
        long budget = Long.parseLong(option(list, "--budget-seconds") == null ? "220" : option(list, "--budget-seconds"));
        try (CheckReport report = new CheckReport(Path.of(list.getFirst()), console)) {
            GpuCheck check = new GpuCheck(report, target, ops, Instant.now().plusSeconds(budget),
                    !list.contains("--no-profile"), noGpu);
            check.all();
            return check.failed ? 1 : 0;
        }
    }

    private void all() {
        report.log("mempipe GPU check: " + target.describe() + (noGpuReason == null ? "" : " (no GPU: " + noGpuReason + ")"));
        step("environment", 5, this::environment);
        step("code_paths", 20, this::codePaths);
        step("kit", 60, this::kit);
        step("figures", 40, this::figures);
        step("plan", 15, this::plan);
        step("fault_injected", 10, this::faultInjected);
        step("fault_fatal_child_jvm", 30, this::faultFatal);
        step("profile", 60, this::profile);
    }

    @FunctionalInterface
    private interface Item {
        void run() throws Exception;
    }

    /** Runs one item unless less than {@code needSeconds} of the budget is left; an exception fails the item. */
    private void step(String name, long needSeconds, Item item) {
        long left = Duration.between(Instant.now(), deadline).toSeconds();
        if (left < needSeconds) {
            report.item(name, CheckReport.failed("not run: " + left + " s of the time budget left, it needs about "
                    + needSeconds + " s"), Map.of());
            failed = true;
            return;
        }
        report.log("---- " + name + " (" + left + " s of the budget left)");
        try {
            item.run();
        } catch (Exception | AssertionError | LinkageError e) {
            report.item(name, CheckReport.failed(e.toString()), Map.of("exception", stackTrace(e)));
            failed = true;
        }
    }

    private void record(String name, String status, Map<String, Object> details) {
        if (status.startsWith("failed")) {
            failed = true;
        }
        report.log(Json.write(details).strip());
        report.item(name, status, details);
    }

    // ---- items ----

    private void environment() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("target", target.describe());
        d.put("java", Runtime.version() + " (" + System.getProperty("java.vendor") + "), " + System.getProperty("java.home"));
        d.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
        d.put("cpus", Runtime.getRuntime().availableProcessors());
        Availability cuda = new GpuBackendProvider().availability();
        d.put("cuda", cuda.available() ? cuda.reason() : "unavailable: " + cuda.reason());
        if (target.gpu()) {
            GpuDriver driver = target.driver();
            try {
                GpuDriver.DeviceInfo info = driver.info();
                d.put("gpu", info.name() + ", " + info.arch() + ", " + info.multiprocessors() + " SMs, "
                        + info.totalMemoryBytes() / (1 << 20) + " MiB, warp " + info.warpSize());
                if (driver instanceof CudaDriver c) {
                    d.put("cuda_driver_version", c.driverVersion());
                }
            } finally {
                driver.close();
            }
        }
        try {
            Nvrtc nvrtc = Nvrtc.load();
            d.put("nvrtc", nvrtc.where() + ", version " + nvrtc.version());
        } catch (Nvrtc.UnavailableException e) {
            d.put("nvrtc", "unavailable: " + e.getMessage());
        }
        d.put("prebuilt_code", prebuiltCode());
        try {
            Hip hip = Hip.load();
            d.put("hip", hip.where() + ": " + hip.deviceCount().reason());
        } catch (IllegalStateException e) {
            d.put("hip", "unavailable: " + e.getMessage());
        }
        Nvml.Opened nvml = Nvml.open();
        if (nvml.nvml() != null) {
            try (Nvml n = nvml.nvml()) {
                d.put("nvml", "driver " + n.driverVersion());
            }
        } else {
            d.put("nvml", "unavailable: " + nvml.reason());
        }
        record("environment", CheckReport.OK, d);
    }

    private static Map<String, Object> prebuiltCode() {
        Map<String, Object> code = new LinkedHashMap<>();
        for (String name : List.of("mempipe_kernels.sm_90.cubin", "mempipe_kernels.compute_90.ptx")) {
            try (var in = KernelCode.class.getResourceAsStream("prebuilt/" + name)) {
                code.put(name, in == null ? "absent (nvcc was not at build time)" : in.readAllBytes().length + " bytes");
            } catch (java.io.IOException e) {
                code.put(name, "unreadable: " + e.getMessage());
            }
        }
        return code;
    }

    private void codePaths() throws Exception {
        Map<String, Object> d = new LinkedHashMap<>();
        if (!target.gpu()) {
            try {
                Nvrtc nvrtc = Nvrtc.load();
                byte[] cubin = nvrtc.compile(KernelCode.source(), KernelCode.SOURCE, "sm_90", true).image();
                d.put("nvrtc_compile_sm_90", cubin.length + " bytes of cubin (compiled here; gsim does not load it)");
            } catch (Nvrtc.UnavailableException e) {
                d.put("nvrtc_compile_sm_90", "unavailable: " + e.getMessage());
            }
            record("code_paths", CheckReport.unavailable("no GPU (" + noGpuReason + "): gsim runs the g++ build of the "
                    + "kernel source, so neither NVRTC's nor the prebuilt code is loaded"), d);
            return;
        }
        boolean ok = true;
        for (boolean useNvrtc : new boolean[] {true, false}) {
            String path = useNvrtc ? "nvrtc" : "prebuilt";
            try (GpuBackend gpu = useNvrtc ? target.backend() : target.backend(CheckTarget.noNvrtc())) {
                boolean right = smallDotAgreesWithCpu(gpu);
                d.put(path, gpu.description() + (right ? ": dot agrees with the CPU" : ": dot DISAGREES with the CPU"));
                ok &= right;
            } catch (KernelCode.NoCodeException | RuntimeException e) {
                d.put(path, "failed: " + e.getMessage());
                ok = false;
            }
        }
        record("code_paths", ok ? CheckReport.OK : CheckReport.failed("a code path did not run or disagreed"), d);
    }

    private static boolean smallDotAgreesWithCpu(GpuBackend gpu) {
        try (Arena a = Arena.ofConfined(); SimdBackend cpu = new SimdBackend()) {
            Tensor q = Tensor.allocate(a, ElementType.F32, 2, 33);
            Tensor m = Tensor.allocate(a, ElementType.F32, 17, 33);
            for (long i = 0; i < 2 * 33; i++) {
                q.data().setAtIndex(ValueLayout.JAVA_FLOAT, i, (i % 7) - 3);
            }
            for (long i = 0; i < 17 * 33; i++) {
                m.data().setAtIndex(ValueLayout.JAVA_FLOAT, i, (i % 5) - 2);
            }
            Tensor s1 = Tensor.allocate(a, ElementType.F32, 2, 17);
            Tensor s2 = Tensor.allocate(a, ElementType.F32, 2, 17);
            gpu.relevancy().dot(q, m, s1);
            cpu.relevancy().dot(q, m, s2);
            // small integers: every sum is exact in f32, so any order of accumulation gives the same bits
            return Arrays.equals(s1.data().toArray(ValueLayout.JAVA_FLOAT), s2.data().toArray(ValueLayout.JAVA_FLOAT));
        }
    }

    private void kit() throws Exception {
        Map<String, Object> d = new LinkedHashMap<>();
        KitRun.use(() -> {
            try {
                return target.backend();
            } catch (KernelCode.NoCodeException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
        });
        Map<String, Object> plain = KitRun.run(KitRun.OP_CONTRACTS, ops);
        KitRun.use(() -> {
            try {
                return new PinningBackend(target.backend());
            } catch (KernelCode.NoCodeException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
        });
        Map<String, Object> pinned = KitRun.run(KitRun.OP_CONTRACTS, ops);
        KitRun.use(() -> {
            try {
                return target.backend();
            } catch (KernelCode.NoCodeException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
        });
        Map<String, Object> residency = ops.isEmpty() ? KitRun.run(List.of(KitRun.Device.class), Set.of()) : Map.of();
        d.put("on", target.describe());
        d.put("without_pins", plain);
        d.put("with_pins", pinned);
        d.put("residency_contract", ops.isEmpty() ? residency : "left out (--ops given)");
        int failures = KitRun.failures(plain) + KitRun.failures(pinned) + KitRun.failures(residency);
        int passes = KitRun.passes(plain) + KitRun.passes(pinned);
        d.put("passed", passes + KitRun.passes(residency));
        d.put("failed", failures);
        String status = failures > 0 ? CheckReport.failed(failures + " kit test(s) failed")
                : passes == 0 ? CheckReport.failed("no kit test ran") : CheckReport.OK;
        record("kit", status, d);
    }

    private void figures() throws Exception {
        Nvml.Opened nvml = target.gpu() ? Nvml.open() : new Nvml.Opened(null, "no GPU (" + noGpuReason + ")");
        double joulesBefore = nvml.nvml() == null ? Double.NaN : nvml.nvml().joules();
        long start = System.nanoTime();
        Map<String, Object> d = new LinkedHashMap<>();
        GpuFigures.Sizes sizes = target.gpu() ? GpuFigures.Sizes.GPU : GpuFigures.Sizes.GSIM;
        d.put("sizes", sizes.toString());
        GpuDriver driver = target.driver();
        try (GpuFigures figures = new GpuFigures(driver, target.image(driver, Nvrtc::load), sizes);
             GpuBackend backend = target.backend()) {
            Map<String, Object> kernels = figures.kernels();
            d.putAll(kernels);
            d.putAll(figures.backendLevel(backend));
            @SuppressWarnings("unchecked")
            Map<String, Object> scan = (Map<String, Object>) kernels.get("scan");
            measuredBandwidth = (Double) scan.get("copy_bytes_per_second_read_plus_written") / 2;
            @SuppressWarnings("unchecked")
            Map<String, Object> launch = (Map<String, Object>) d.get("dot16_backend_vs_bare_driver_calls");
            measuredLaunch = parseSeconds((String) launch.get("what"));
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        Map<String, Object> energy = new LinkedHashMap<>();
        if (nvml.nvml() != null) {
            try (Nvml n = nvml.nvml()) {
                double joules = n.joules() - joulesBefore;
                energy.put("joules", joules);
                energy.put("seconds", seconds);
                energy.put("label", Double.isNaN(joules) ? "unavailable: the device does not report total energy"
                        : "measured (NVML total energy of GPU 0 around the figures)");
            }
        }
        if (target.gpu()) {
            boolean allMet = d.values().stream().filter(Map.class::isInstance).map(Map.class::cast)
                    .filter(m -> m.containsKey("met")).allMatch(m -> Boolean.TRUE.equals(m.get("met")));
            d.put("all_bounds_met", allMet);
            // the figures are measurements: a bound not met is reported, not a failed check
            record("figures", CheckReport.OK, d);
        } else {
            record("figures", CheckReport.unavailable("no GPU (" + noGpuReason + "); what follows is gsim at small sizes,"
                    + " a smoke run of the harness: the CPU's numbers, not GPU figures"), d);
        }
        record("energy", energy.isEmpty() ? CheckReport.unavailable(nvml.reason()) : CheckReport.OK, energy);
    }

    private static double parseSeconds(String what) {
        // "median of N calls: backend X s, bare Y s": the backend's time per call is the launch cost the planner sees
        int at = what.indexOf("backend ");
        return Double.parseDouble(what.substring(at + 8, what.indexOf(" s,", at)));
    }

    private void plan() throws Exception {
        Map<String, Object> d = new LinkedHashMap<>();
        GpuDriver driver = target.driver();
        TransferModel link;
        try {
            link = PlanCheck.measureLink(driver, d);
        } finally {
            driver.close();
        }
        try (GpuBackend gpu = target.backend(); SimdBackend cpu = new SimdBackend()) {
            DeviceModel model;
            if (!Double.isNaN(measuredBandwidth)) {
                DeviceModel described = DeviceModel.calibrate(gpu, Duration.ofSeconds(2));
                model = DeviceModel.declared("gpu", described.peakFlopsPerSecond(), measuredBandwidth, measuredLaunch);
                d.put("gpu_model_from", "bandwidth and launch cost measured by the figures item; FLOP rate from the"
                        + " device description (" + described.describe() + ")");
            } else {
                model = DeviceModel.calibrate(gpu, Duration.ofSeconds(2));
                d.put("gpu_model_from", "DeviceModel.calibrate (the figures item did not run)");
            }
            d.putAll(PlanCheck.explain(cpu, gpu, model, link));
        }
        for (String w : List.of("quest_64k", "dsa_64k")) {
            report.log(w + ":\n" + ((Map<?, ?>) d.get(w)).get("explain"));
        }
        record("plan", target.gpu() ? CheckReport.OK : CheckReport.unavailable("no GPU (" + noGpuReason
                + "); planned with gsim's model as a smoke run"), d);
    }

    private void faultInjected() throws Exception {
        boolean[] ok = new boolean[1];
        Map<String, Object> d = FaultCheck.injected(target, ok);
        record("fault_injected", ok[0] ? CheckReport.OK : CheckReport.failed("see the details"), d);
    }

    private void faultFatal() throws Exception {
        String mode = target.gpu() ? "oob" : "sticky";
        List<String> args = target.gpu() ? List.of(CHILD, mode) : List.of(CHILD, mode, "--gsim", target.gsimLibrary().toString());
        ChildJvm.Result result = ChildJvm.run(GpuCheck.class.getName(), args, List.of(), 120,
                report.dir().resolve("fault-child.log"));
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("mode", mode);
        d.put("exit_code", result.exitCode());
        for (String line : result.output().split("\n")) {
            if (line.startsWith(CHILD_PREFIX)) {
                String[] kv = line.substring(CHILD_PREFIX.length()).split("\t", 2);
                d.put(kv[0], kv.length > 1 ? kv[1] : "");
            }
        }
        boolean ok = result.exitCode() == 0 && "true".equals(d.get("ok"));
        if (!ok) {
            d.put("output_tail", ChildJvm.tail(result.output(), 30));
        }
        String status = !ok ? CheckReport.failed("the child JVM did not show a fatal fault handled (see fault-child.log)")
                : target.gpu() ? CheckReport.OK
                : CheckReport.unavailable("no GPU (" + noGpuReason + "): gsim cannot trap an out-of-bounds write;"
                + " its sticky illegal-address fault ran in the child JVM instead, handled as below");
        record("fault_fatal_child_jvm", status, d);
    }

    private void profile() throws Exception {
        Map<String, Object> d = new LinkedHashMap<>();
        if (!profile) {
            record("profile", CheckReport.unavailable("left out (--no-profile)"), d);
            return;
        }
        try {
            Class.forName("dev.mempipe.cli.Main");
        } catch (ClassNotFoundException e) {
            record("profile", CheckReport.unavailable("the mempipe command (dev.mempipe.cli.Main) is not on the class"
                    + " path; the bundle has it"), d);
            return;
        }
        if (!target.gpu()) {
            // on gsim every decode step's attention runs on g++ fibers: minutes per context, beyond the budget
            ChildJvm.Result version = ChildJvm.run("dev.mempipe.cli.Main", List.of("--version"), List.of(), 60,
                    report.dir().resolve("profile.txt"));
            d.put("command", "mempipe --version (the command starts from the bundle's runtime)");
            d.put("exit_code", version.exitCode());
            d.put("output_tail", ChildJvm.tail(version.output(), 5));
            record("profile", version.exitCode() != 0 ? CheckReport.failed("mempipe --version exited with "
                    + version.exitCode()) : CheckReport.unavailable("no GPU (" + noGpuReason + "): mempipe profile"
                    + " --backend gpu on gsim takes minutes per context; only the command's start was checked"), d);
            return;
        }
        Path out = report.dir().resolve("profile");
        long left = Math.max(10, Duration.between(Instant.now(), deadline).toSeconds() - 5);
        ChildJvm.Result result = ChildJvm.run("dev.mempipe.cli.Main", List.of("profile", "--backend", "gpu",
                "--workload", "quest,dsa", "--context", "16k,64k", "--model", "tiny", "--out", out.toString()),
                List.of(), left, report.dir().resolve("profile.txt"));
        d.put("command", "mempipe profile --backend gpu --workload quest,dsa --context 16k,64k --model tiny --out " + out);
        d.put("exit_code", result.exitCode());
        d.put("table_and_placements", "profile.txt (the table, with the device of every step) and profile/report.json");
        d.put("output_tail", ChildJvm.tail(result.output(), 40));
        record("profile", result.exitCode() != 0 ? CheckReport.failed("mempipe profile exited with " + result.exitCode()
                + (result.exitCode() == -1 ? " (killed at the end of the time budget)" : "")) : CheckReport.OK, d);
    }

    // ---- helpers ----

    private static String option(List<String> args, String name) {
        int at = args.indexOf(name);
        if (at < 0) {
            return null;
        }
        if (at + 1 >= args.size()) {
            throw new IllegalArgumentException(name + " needs a value");
        }
        return args.get(at + 1);
    }

    private static String stackTrace(Throwable t) {
        java.io.StringWriter w = new java.io.StringWriter();
        t.printStackTrace(new java.io.PrintWriter(w));
        return w.toString();
    }
}
