package dev.mempipe.cli;

import dev.mempipe.goldentests.GoldenCase;
import dev.mempipe.goldentests.GoldenChecks;
import dev.mempipe.goldentests.npy.Npy;
import dev.mempipe.goldentests.npy.NpyArray;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code mempipe op} on every golden case of the kit (golden/index.txt): the case's inputs are written to a
 * folder, the command runs in-process on them with the case's parameters, and the .npy files it writes are
 * compared with the case's expected outputs by the kit's own checks, within the kit's tolerances. The written
 * files must also have the expected names and shapes (rank included).
 */
class OpGoldenRoundTripTest {
    @TempDir
    Path tmp;

    @TestFactory
    Stream<DynamicTest> op_should_reproduce_every_golden_case() {
        List<String> names = GoldenCase.names();
        assertTrue(names.size() >= 40, () -> "expected the kit's golden cases, found " + names);
        return names.stream().map(name -> DynamicTest.dynamicTest(name, () -> roundTrip(name)));
    }

    @Test
    void op_should_take_every_input_from_a_case_folder() throws IOException {
        GoldenCase golden = GoldenCase.load("dot-3"); // I8 x I8: also finds Q_scale.npy and M_scale.npy
        Path in = extractInputs(golden);
        Path out = tmp.resolve("dot-3-out");
        CliRun run = CliRun.of("op", "dot", "--in", in.toString(), "--out", out.toString());
        assertEquals(0, run.exitCode(), run::toString);
        check(golden, out);
    }

    private void roundTrip(String name) throws IOException {
        GoldenCase golden = GoldenCase.load(name);
        Path in = extractInputs(golden);
        Path out = tmp.resolve(name + "-out");
        List<String> args = new ArrayList<>(List.of("op", golden.op().contractName()));
        for (String input : golden.inputs()) {
            // scales are not named: the command finds X_scale.npy next to X.npy
            args.addAll(List.of("--in", input + "=" + in.resolve(input + ".npy")));
        }
        caseParams(name).forEach((k, v) -> args.addAll(List.of("--param", k + "=" + v)));
        args.addAll(List.of("--out", out.toString()));
        CliRun run = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, run.exitCode(), () -> String.join(" ", args) + "\n" + run);
        for (String output : golden.outputs()) {
            assertTrue(run.out().contains(out.resolve(output + ".npy").toString()), run::toString);
        }
        check(golden, out);
    }

    /** The case's inputs (and their scales) as .npy files in a folder of their own. */
    private Path extractInputs(GoldenCase golden) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(golden.name() + "-in"));
        for (String input : golden.inputs()) {
            Npy.write(dir.resolve(input + ".npy"), golden.array(input));
            NpyArray scale = golden.array(input + "_scale");
            if (scale != null) {
                Npy.write(dir.resolve(input + "_scale.npy"), scale);
            }
        }
        return dir;
    }

    /**
     * The case's scalar parameters as {@code --param}s: every key of case.properties but the bookkeeping ones;
     * the output element type ({@code type.<output>}) becomes {@code type}, except for gather, whose output has
     * the input's type by contract.
     */
    private static Map<String, String> caseParams(String name) throws IOException {
        Properties props = new Properties();
        try (InputStream in = GoldenCase.class.getResourceAsStream(GoldenCase.ROOT + name + "/case.properties")) {
            props.load(in);
        }
        Map<String, String> params = new LinkedHashMap<>();
        String op = props.getProperty("op");
        for (String key : props.stringPropertyNames().stream().sorted().toList()) {
            if (key.startsWith("type.")) {
                if (!op.equals("gather")) {
                    params.put("type", props.getProperty(key));
                }
            } else if (!List.of("op", "inputs", "outputs").contains(key)) {
                params.put(key, props.getProperty(key));
            }
        }
        return params;
    }

    /** Reads what the command wrote and runs the kit's comparison for the case's op. */
    private static void check(GoldenCase golden, Path out) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            Map<String, int[]> ints = new LinkedHashMap<>();
            for (String output : golden.outputs()) {
                NpyArray written = Npy.read(out.resolve(output + ".npy"));
                NpyArray expected = golden.array(output);
                assertArrayEquals(expected.shape(), written.shape(), () -> golden.name() + ": " + output
                        + ".npy has shape " + Arrays.toString(written.shape()) + ", the golden case "
                        + Arrays.toString(expected.shape()));
                ElementType type = written.dtype().elementType();
                if (type != null) {
                    NpyArray scale = null;
                    if (type.isQuantized()) {
                        scale = Npy.read(out.resolve(output + "_scale.npy"));
                    }
                    tensors.put(output, written.toTensor(arena, type, scale));
                } else {
                    ints.put(output, Arrays.stream(written.toLongs()).mapToInt(Math::toIntExact).toArray());
                }
            }
            if (ints.containsKey("idx") && golden.op().contractName().equals("topK")) {
                ints.put("count", new int[] {ints.get("idx").length}); // the returned count is idx's length
            }
            GoldenChecks.check(golden, new GoldenCase.Outputs(tensors, ints));
        }
    }
}
