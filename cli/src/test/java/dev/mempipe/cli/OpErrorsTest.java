package dev.mempipe.cli;

import dev.mempipe.goldentests.npy.Npy;
import dev.mempipe.goldentests.npy.NpyArray;
import dev.mempipe.goldentests.npy.NpyDtype;
import dev.mempipe.spi.Backends;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad input to {@code mempipe op}: each case must end with exit code 2, exactly one line on stderr that says
 * what is wrong (no stack trace), nothing on stdout and no output file.
 */
class OpErrorsTest {
    @TempDir
    Path tmp;
    private Path out;
    private String q;
    private String m;

    @BeforeEach
    void inputs() throws IOException {
        out = tmp.resolve("out");
        q = write("q.npy", f32(new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
        m = write("m.npy", f32(new float[] {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1}, 4, 3));
    }

    @Test
    void should_reject_an_unknown_op() {
        assertUserError("unknown op 'dott'", "op", "dott", "--in", "Q=" + q, "--out", out.toString());
    }

    @Test
    void should_reject_a_missing_input_naming_it() {
        assertUserError("dot: missing input M (--in M=FILE.npy", "op", "dot", "--in", "Q=" + q, "--out", out.toString());
    }

    @Test
    void should_reject_an_unknown_input_name() {
        assertUserError("dot: unknown input 'X' (dot takes Q, M", "op", "dot", "--in", "Q=" + q, "--in", "X=" + m,
                "--out", out.toString());
    }

    @Test
    void should_reject_a_missing_file() {
        assertUserError("dot: input M: no such file", "op", "dot", "--in", "Q=" + q, "--in", "M=" + tmp.resolve("no.npy"),
                "--out", out.toString());
    }

    @Test
    void should_reject_a_file_that_is_not_npy() throws IOException {
        Path text = Files.writeString(tmp.resolve("text.npy"), "not an array");
        assertUserError("bad magic", "op", "dot", "--in", "Q=" + q, "--in", "M=" + text, "--out", out.toString());
    }

    @Test
    void should_reject_a_wrong_dtype_naming_input_and_dtype() throws IOException {
        String ints = write("ints.npy", NpyArray.ofInts("ints", 1, 2, 3));
        assertUserError("dot: input M (" + ints + ") is <i4 but M must be a tensor", "op", "dot", "--in", "Q=" + q,
                "--in", "M=" + ints, "--out", out.toString());
    }

    @Test
    void should_reject_float_indices() {
        assertUserError("gather: input idx (" + q + ") is <f4 but idx must be indices", "op", "gather", "--in", "X=" + m,
                "--in", "idx=" + q, "--out", out.toString());
    }

    @Test
    void should_reject_a_shape_mismatch_with_the_ops_message() throws IOException {
        String wide = write("wide.npy", f32(new float[8], 2, 4));
        assertUserError("dot: dimension mismatch: 'Q' has d=3 but 'M' has d=4", "op", "dot", "--in", "Q=" + q,
                "--in", "M=" + wide, "--out", out.toString());
    }

    @Test
    void should_reject_an_unknown_param_listing_the_known_ones() {
        assertUserError("topK: unknown parameter 'kk' (topK takes k)", "op", "topK", "--in", "s=" + q,
                "--param", "kk=3", "--out", out.toString());
    }

    @Test
    void should_reject_a_param_of_the_wrong_kind_or_range() {
        assertUserError("topK: parameter k=three is not an integer", "op", "topK", "--in", "s=" + q,
                "--param", "k=three", "--out", out.toString());
        assertUserError("topK: parameter k=0 is out of range", "op", "topK", "--in", "s=" + q,
                "--param", "k=0", "--out", out.toString());
        assertUserError("pagePool: parameter mode=avg is not one of MEAN, MAX, MIN", "op", "pagePool",
                "--in", "K=" + m, "--param", "P=2", "--param", "mode=avg", "--out", out.toString());
        assertUserError("dot: parameter type=I8 is not one of F32, F16, BF16", "op", "dot", "--in", "Q=" + q,
                "--in", "M=" + m, "--param", "type=I8", "--out", out.toString());
    }

    @Test
    void should_reject_a_missing_required_param() {
        assertUserError("threshold: missing parameter T", "op", "threshold", "--in", "s=" + q, "--out", out.toString());
    }

    @Test
    void should_reject_nan_in_topk_naming_the_position() throws IOException {
        String nan = write("nan.npy", f32(new float[] {1, 2, Float.NaN, 4}, 4));
        assertUserError("topK: argument 's' holds NaN at position 2", "op", "topK", "--in", "s=" + nan,
                "--param", "k=2", "--out", out.toString());
    }

    @Test
    void should_reject_int8_codes_without_scales() throws IOException {
        String codes = write("codes.npy", new NpyArray("codes", NpyDtype.I8, new long[] {2, 3}, new byte[6]));
        assertUserError("dot: input Q (" + codes + ") holds I8 codes; give their per-row scales with --in Q_scale=",
                "op", "dot", "--in", "Q=" + codes, "--in", "M=" + m, "--out", out.toString());
    }

    @Test
    void should_reject_scales_for_a_float_tensor() throws IOException {
        String scales = write("s.npy", f32(new float[] {1, 1}, 2));
        assertUserError("dot: Q_scale is given but Q (" + q + ") is F32", "op", "dot", "--in", "Q=" + q,
                "--in", "Q_scale=" + scales, "--in", "M=" + m, "--out", out.toString());
    }

    @Test
    void should_reject_a_bitmap_that_is_not_zero_or_one() throws IOException {
        String bits = write("bits.npy", new NpyArray("bits", NpyDtype.U8, new long[] {3}, new byte[] {0, 2, 1}));
        assertUserError("bitmap element 1 is 2, expected 0 or 1", "op", "bitmapToIndices", "--in", "bitmap=" + bits,
                "--out", out.toString());
    }

    @Test
    void should_reject_a_missing_out_and_a_missing_op_name() {
        assertUserError("dot: missing --out DIR", "op", "dot", "--in", "Q=" + q, "--in", "M=" + m);
        assertUserError("expected an op name", "op", "--in", "Q=" + q);
    }

    @Test
    void should_run_on_the_backend_the_system_property_names_and_reject_an_unknown_one() {
        String before = System.getProperty(Backends.BACKEND_PROPERTY);
        try {
            System.setProperty(Backends.BACKEND_PROPERTY, BrokenGatherProvider.NAME);
            CliRun run = CliRun.of("op", "dot", "--in", "Q=" + q, "--in", "M=" + m, "--out",
                    tmp.resolve("ran").toString());
            assertEquals(0, run.exitCode(), run::toString);
            assertTrue(run.out().startsWith("dot on " + BrokenGatherProvider.NAME), run::toString);
            System.setProperty(Backends.BACKEND_PROPERTY, "no-such-backend");
            assertUserError("backend 'no-such-backend' (mempipe.backend) is not available", "op", "dot", "--in",
                    "Q=" + q, "--in", "M=" + m, "--out", out.toString());
        } finally {
            if (before == null) {
                System.clearProperty(Backends.BACKEND_PROPERTY);
            } else {
                System.setProperty(Backends.BACKEND_PROPERTY, before);
            }
        }
    }

    @Test
    void should_reject_an_unavailable_backend() {
        assertUserError("backend 'no-such-backend' (mempipe.backend) is not available", "op", "dot", "--in", "Q=" + q,
                "--in", "M=" + m, "--out", out.toString(), "--backend", "no-such-backend");
    }

    @Test
    void should_list_every_op_with_inputs_params_and_outputs() {
        CliRun run = CliRun.of("op", "--list");
        assertEquals(0, run.exitCode(), run::toString);
        for (dev.mempipe.spi.Op op : dev.mempipe.spi.Op.values()) {
            assertTrue(run.out().contains("  " + op.contractName() + " "), () -> op + " missing:\n" + run.out());
        }
        assertTrue(run.out().contains("bm25Score") && run.out().contains("params: k1 (float, default 1.2)"), run.out());
        assertTrue(run.out().contains("writes: Xprime.npy"), run.out());
    }

    @Test
    void should_write_outputs_named_as_in_the_signature() {
        CliRun run = CliRun.of("op", "dot", "--in", "Q=" + q, "--in", "M=" + m, "--out", out.toString());
        assertEquals(0, run.exitCode(), run::toString);
        assertTrue(Files.exists(out.resolve("S.npy")), run::toString);
        assertEquals("", run.err());
    }

    private void assertUserError(String expected, String... args) {
        CliRun run = CliRun.of(args);
        assertEquals(2, run.exitCode(), run::toString);
        assertFalse(run.errLine().contains("\n"), () -> "more than one line on stderr:\n" + run);
        assertFalse(run.err().contains("\tat "), () -> "a stack trace for a user error:\n" + run);
        assertTrue(run.errLine().startsWith("mempipe op: "), run::toString);
        assertTrue(run.errLine().contains(expected), () -> "expected '" + expected + "' in:\n" + run);
        assertEquals("", run.out(), run::toString);
        assertFalse(Files.exists(out) && list(out).size() > 0, () -> "files written despite the error: " + list(out));
    }

    private static List<Path> list(Path dir) {
        try (var files = Files.list(dir)) {
            return files.toList();
        } catch (IOException e) {
            return new ArrayList<>();
        }
    }

    private String write(String name, NpyArray array) throws IOException {
        Path file = tmp.resolve(name);
        Npy.write(file, array);
        return file.toString();
    }

    private static NpyArray f32(float[] values, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return new NpyArray("f32", NpyDtype.F32, shape, b.array());
    }
}
