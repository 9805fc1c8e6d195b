package dev.mempipe.fpga;

import dev.mempipe.spi.Availability;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.BackendProvider;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * Finds the Alveo U55C backend without ever letting XRT end the JVM. XRT aborts the process when
 * {@code XILINX_XRT} is unset or {@code $XILINX_XRT/lib/libxrt_core.so.2} is missing, so both are checked before
 * anything is loaded, and the first real-device probe (open device 0, load the xclbin, open the kernels) runs in a
 * child JVM; only when that child reports success does this JVM load XRT. The csim device
 * ({@code -Dmempipe.xrt.csim=<libmempipe_xrt_csim.so>}), which cannot abort anything, is probed in-process.
 *
 * <p>Configuration: {@code -Dmempipe.xrt.xclbin=} the xclbin to load (required for a card; the csim device defaults
 * to {@code mempipe-csim.xclbin} beside its library). Thread-safe: the probe runs once.
 */
public final class XrtBackendProvider implements BackendProvider {
    static final String CSIM_PROPERTY = "mempipe.xrt.csim";
    static final String XCLBIN_PROPERTY = "mempipe.xrt.xclbin";
    private static final long PROBE_SECONDS = 120;

    /**
     * Where the backend's library and xclbin are, or why there are none; {@code env} is the XRT environment the
     * checks saw ({@code XILINX_XRT}, {@code XCL_EMULATION_MODE}), handed to the probe's child JVM.
     */
    record Setup(Path library, Path xclbin, String flavour, String unavailable, Map<String, String> env) {
        boolean csim() {
            return "csim".equals(flavour);
        }
    }

    private volatile Availability availability;

    @Override
    public String name() {
        return XrtDevice.BACKEND;
    }

    @Override
    public int priority() {
        return 50;
    }

    @Override
    public Availability availability() {
        Availability a = availability;
        if (a == null) {
            synchronized (this) {
                if (availability == null) {
                    availability = probe(setup(System.getenv(), System::getProperty));
                }
                a = availability;
            }
        }
        return a;
    }

    @Override
    public Backend create() {
        Availability a = availability();
        if (!a.available()) {
            throw new IllegalStateException("backend '" + name() + "' is unavailable: " + a.reason());
        }
        Setup setup = setup(System.getenv(), System::getProperty);
        return XrtBackend.open(setup.library(), setup.xclbin(), setup.flavour());
    }

    /** Resolves the library and xclbin from the environment and system properties, checking files only. */
    static Setup setup(Map<String, String> env, UnaryOperator<String> properties) {
        String csim = properties.apply(CSIM_PROPERTY);
        String xclbinProperty = properties.apply(XCLBIN_PROPERTY);
        if (csim != null && !csim.isBlank()) {
            Path library = Path.of(csim);
            if (!Files.isRegularFile(library)) {
                return unavailable("-D" + CSIM_PROPERTY + "=" + csim + " names no file (build it with mvn -pl"
                        + " spi-fpga-xrt process-test-classes; it needs g++)");
            }
            Path xclbin = xclbinProperty != null ? Path.of(xclbinProperty)
                    : library.resolveSibling("mempipe-csim.xclbin");
            if (!Files.isRegularFile(xclbin)) {
                return unavailable("the csim xclbin " + xclbin + " does not exist");
            }
            return new Setup(library, xclbin, "csim", null, Map.of());
        }
        String root = env.get("XILINX_XRT");
        if (root == null || root.isBlank()) {
            return unavailable("XILINX_XRT is not set (XRT aborts the process without it; source"
                    + " /opt/xilinx/xrt/setup.sh, or use the csim device with -D" + CSIM_PROPERTY + "=)");
        }
        Path core = Path.of(root, "lib", "libxrt_core.so.2");
        if (!Files.exists(core)) {
            return unavailable(core + " does not exist (XRT aborts the process without its core library;"
                    + " XILINX_XRT=" + root + ")");
        }
        Path coreutil = Path.of(root, "lib", "libxrt_coreutil.so.2");
        if (!Files.exists(coreutil)) {
            return unavailable(coreutil + " does not exist (XRT's C API library)");
        }
        if (xclbinProperty == null || xclbinProperty.isBlank()) {
            return unavailable("no xclbin: set -D" + XCLBIN_PROPERTY + "= to the kernels built for the card"
                    + " (docs/fpga.md)");
        }
        Path xclbin = Path.of(xclbinProperty);
        if (!Files.isRegularFile(xclbin)) {
            return unavailable("-D" + XCLBIN_PROPERTY + "=" + xclbinProperty + " names no file");
        }
        String mode = env.get("XCL_EMULATION_MODE");
        Map<String, String> xrtEnv = mode == null ? Map.of("XILINX_XRT", root)
                : Map.of("XILINX_XRT", root, "XCL_EMULATION_MODE", mode);
        return new Setup(coreutil, xclbin, mode == null ? "xrt" : "xrt, XCL_EMULATION_MODE=" + mode, null, xrtEnv);
    }

    /** Probes a resolved setup: csim in this JVM, a real XRT in a child JVM. */
    static Availability probe(Setup setup) {
        if (setup.unavailable() != null) {
            return Availability.unavailable(setup.unavailable());
        }
        if (setup.csim()) {
            try (XrtBackend backend = XrtBackend.open(setup.library(), setup.xclbin(), setup.flavour())) {
                return Availability.available(backend.description());
            } catch (RuntimeException e) {
                return Availability.unavailable("csim device " + setup.library() + ": " + e.getMessage());
            }
        }
        return probeInChild(setup);
    }

    private static Availability probeInChild(Setup setup) {
        Path result = null;
        try {
            result = Files.createTempFile("mempipe-xrt-probe", ".txt");
            Path stderr = Files.createTempFile("mempipe-xrt-probe", ".err");
            String java = ProcessHandle.current().info().command().orElse(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString());
            List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED"));
            // the model's settings choose the score kernel build the child opens, as this JVM would
            for (String property : List.of("mempipe.xrt.channels", "mempipe.xrt.clockMHz")) {
                if (System.getProperty(property) != null) {
                    command.add("-D" + property + "=" + System.getProperty(property));
                }
            }
            command.addAll(List.of("-cp", System.getProperty("java.class.path"), XrtProbe.class.getName(),
                    setup.library().toString(), setup.xclbin().toString(), result.toString()));
            ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(stderr.toFile());
            builder.environment().putAll(setup.env());
            Process child = builder.start();
            if (!child.waitFor(PROBE_SECONDS, TimeUnit.SECONDS)) {
                child.destroyForcibly();
                return Availability.unavailable("the XRT probe (child JVM) did not finish in " + PROBE_SECONDS + " s");
            }
            String report = Files.readString(result, StandardCharsets.UTF_8).trim();
            String errors = tail(Files.readString(stderr, StandardCharsets.UTF_8));
            Files.deleteIfExists(stderr);
            if (report.startsWith(XrtProbe.OK)) {
                return Availability.available(report.substring(XrtProbe.OK.length()).trim());
            }
            if (report.isEmpty()) {
                return Availability.unavailable("the XRT probe (child JVM) exited with code " + child.exitValue()
                        + " before reporting" + (errors.isEmpty() ? "" : ": " + errors));
            }
            return Availability.unavailable(report + (errors.isEmpty() ? "" : " (XRT: " + errors + ")"));
        } catch (IOException e) {
            return Availability.unavailable("could not run the XRT probe in a child JVM: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Availability.unavailable("interrupted while probing XRT");
        } finally {
            if (result != null) {
                try {
                    Files.deleteIfExists(result);
                } catch (IOException ignored) {
                    // a temporary file left behind is harmless
                }
            }
        }
    }

    private static String tail(String text) {
        String t = text.strip().replace('\n', ' ');
        return t.length() <= 400 ? t : "..." + t.substring(t.length() - 400);
    }

    private static Setup unavailable(String reason) {
        return new Setup(null, null, null, reason, Map.of());
    }
}
