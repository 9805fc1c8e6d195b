package dev.mempipe.langchain4j;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code -Dmempipe.backend=NAME} reaches a store built with defaults: its engine plans every step on that backend,
 * which keeps its own copy of the pinned vectors, and the answers stay right. Run in a new JVM, since the default
 * backend is chosen once per JVM.
 */
class BackendPropertyTest {

    @Test
    void should_run_a_default_store_on_the_backend_named_by_the_system_property() throws Exception {
        Map<String, String> probe = probe("-Dmempipe.backend=" + CopyDeviceProvider.NAME);
        for (String store : List.of("exact", "graph")) {
            assertEquals("true", probe.get(store + ".foundItself"), () -> store + ": " + probe);
            assertEquals(CopyDeviceProvider.NAME, probe.get(store + ".relevancy"), probe::toString);
            assertEquals("0", probe.get(store + ".fallbacks"), probe::toString);
        }
        assertEquals("[convert@test-copy-device, dotTopK@test-copy-device]",
                probe.get("exact.ranOn"), probe::toString);
        assertTrue(probe.get("graph.ranOn").contains("ann@" + CopyDeviceProvider.NAME), probe::toString);
    }

    @Test
    void should_run_a_default_store_on_the_cpu_without_the_system_property() {
        // this JVM has no -Dmempipe.backend, and the test backend's priority is below the SIMD backend's
        try (MempipeEmbeddingStore store = MempipeEmbeddingStore.builder().build()) {
            String id = store.add(Embedding.from(new float[] {1, 2, 3}));
            store.add(Embedding.from(new float[] {-3, 2, 1}));
            assertEquals(id, store.search(EmbeddingSearchRequest.builder().queryEmbedding(Embedding.from(
                    new float[] {2, 4, 6})).maxResults(1).build()).matches().getFirst().embeddingId());
            assertEquals(List.of("convert@cpu-simd", "dotTopK@cpu-simd"), store.engine().report()
                    .perOp().stream().map(o -> o.op() + "@" + o.device()).distinct().sorted().toList());
        }
    }

    /** Runs {@link DefaultStoreProbe} in a new JVM with this test's class path and {@code options}. */
    private static Map<String, String> probe(String... options) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path")));
        command.addAll(List.of(options));
        command.add(DefaultStoreProbe.class.getName());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the probe did not finish: " + output);
        assertEquals(0, process.exitValue(), output);
        Map<String, String> values = new LinkedHashMap<>();
        for (String line : output.split("\n")) {
            if (line.matches("[a-zA-Z.]+=.*")) {
                int eq = line.indexOf('=');
                values.put(line.substring(0, eq), line.substring(eq + 1).strip());
            }
        }
        values.put("output", output);
        return values;
    }
}
