package dev.mempipe.core.engine;

import dev.mempipe.core.placement.Device;
import dev.mempipe.core.placement.DeviceModel;
import dev.mempipe.ops.SimdBackend;
import dev.mempipe.ops.SimdBackendProvider;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.BackendProvider;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The engine's defaults come from {@code Backends}: the SIMD provider is the CPU, {@code -Dmempipe.backend} the device. */
class DefaultDevicesTest {
    private static final Function<Backend, Device> DECLARED =
            b -> new Device(b, DeviceModel.declared(b.name(), 1e11, 2e10, 1e-6));

    @Test
    void should_use_the_default_backend_as_the_cpu_when_it_is_the_simd_backend() {
        Backend simd = new SimdBackend();
        DefaultDevices.Chosen chosen = DefaultDevices.choose(simd, List.of(new SimdBackendProvider()), DECLARED);
        assertSame(simd, chosen.cpu().backend());
        assertNull(chosen.device());
    }

    @Test
    void should_find_the_simd_backend_through_its_provider_when_another_backend_is_the_default() {
        Backend device = new CountingDeviceProvider().create();
        List<BackendProvider> providers = List.of(new CountingDeviceProvider(), new SimdBackendProvider());
        DefaultDevices.Chosen chosen = DefaultDevices.choose(device, providers, DECLARED);
        assertEquals(SimdBackend.NAME, chosen.cpu().name());
        assertNotSame(device, chosen.cpu().backend());
        assertSame(device, chosen.device().backend());
    }

    @Test
    void should_plan_every_step_on_the_backend_named_by_the_system_property() throws Exception {
        Map<String, String> probe = probe("-Dmempipe.backend=" + CountingDeviceProvider.NAME);
        assertEquals(SimdBackend.NAME, probe.get("cpu"), probe::toString);
        assertEquals("[" + SimdBackend.NAME + ", " + CountingDeviceProvider.NAME + "]", probe.get("devices"));
        assertEquals(CountingDeviceProvider.NAME, probe.get("relevancy"));
        assertEquals("1", probe.get("best"), "the search answers right on the device");
        assertTrue(Long.parseLong(probe.get("deviceCalls")) > 0, "the memory's ops ran on the device: " + probe);
        assertTrue(probe.get("ranOn").contains("dotTopK@" + CountingDeviceProvider.NAME), probe::toString);
    }

    @Test
    void should_fail_naming_the_backend_when_the_system_property_names_an_unknown_one() throws Exception {
        Map<String, String> probe = probe("-Dmempipe.backend=no-such-backend");
        assertTrue(probe.getOrDefault("error", "").startsWith(
                "backend 'no-such-backend' (mempipe.backend) is not available"), probe::toString);
    }

    @Test
    void should_use_the_simd_backend_alone_without_the_system_property() {
        // this JVM has no -Dmempipe.backend, and the test backend's priority is below the SIMD backend's
        Engine engine = Engine.builder().build();
        assertEquals(SimdBackend.NAME, engine.cpu().name());
        assertEquals(List.of(SimdBackend.NAME), engine.devices().stream().map(Device::name).toList());
        assertSame(engine.cpu(), Engine.builder().build().cpu(), "calibrated once per process");
    }

    /** Runs {@link DefaultEngineProbe} in a new JVM with this test's class path and {@code options}. */
    private static Map<String, String> probe(String... options) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path")));
        command.addAll(List.of(options));
        command.add(DefaultEngineProbe.class.getName());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the probe did not finish: " + output);
        assertEquals(0, process.exitValue(), output);
        Map<String, String> values = new LinkedHashMap<>();
        for (String line : output.split("\n")) {
            if (line.matches("[a-zA-Z]+=.*")) {
                int eq = line.indexOf('=');
                values.put(line.substring(0, eq), line.substring(eq + 1).strip());
            }
        }
        values.put("output", output);
        return values;
    }
}
