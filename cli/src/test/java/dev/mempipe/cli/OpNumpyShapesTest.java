package dev.mempipe.cli;

import dev.mempipe.goldentests.npy.Npy;
import dev.mempipe.goldentests.npy.NpyArray;
import dev.mempipe.goldentests.npy.NpyDtype;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code mempipe op} takes the shapes SPEC.md's signatures name, as NumPy writes them: attention's K and V as
 * {@code [L, Hkv, d]} (C order, Hkv read from the shape) as well as {@code [L, Hkv*d]}, and vectors as 1-D
 * arrays; an array of more dimensions than its argument has is a one-line error naming the input and shape.
 */
class OpNumpyShapesTest {
    private static final int L = 7;
    private static final int HKV = 2;
    private static final int HQ = 4;
    private static final int D = 5;

    @TempDir
    Path tmp;

    @Test
    void attention_should_take_K_and_V_of_shape_L_Hkv_d_and_read_Hkv_from_it() throws IOException {
        SplittableRandom r = new SplittableRandom(9);
        float[] q = random(r, HQ * D);
        float[] k = random(r, L * HKV * D);
        float[] v = random(r, L * HKV * D);
        String qFile = write("q.npy", f32(q, HQ, D));
        // the same bytes as [L, Hkv*d] and as [L, Hkv, d]: C order puts head h of token i at i*Hkv*d + h*d
        CliRun flat = CliRun.of("op", "attention", "--in", "q=" + qFile, "--in", "K=" + write("k2.npy", f32(k, L, HKV * D)),
                "--in", "V=" + write("v2.npy", f32(v, L, HKV * D)), "--out", tmp.resolve("flat").toString());
        CliRun shaped = CliRun.of("op", "attention", "--in", "q=" + qFile, "--in", "K=" + write("k3.npy",
                f32(k, L, HKV, D)), "--in", "V=" + write("v3.npy", f32(v, L, HKV, D)), "--out",
                tmp.resolve("shaped").toString());
        assertEquals(0, flat.exitCode(), flat::toString);
        assertEquals(0, shaped.exitCode(), shaped::toString);
        NpyArray a = Npy.read(tmp.resolve("flat").resolve("o.npy"));
        NpyArray b = Npy.read(tmp.resolve("shaped").resolve("o.npy"));
        assertArrayEquals(new long[] {HQ, D}, b.shape());
        assertArrayEquals(a.data(), b.data(), "[L, Hkv, d] and [L, Hkv*d] must give the same o");
        // with Hkv = 1 the same K would be read as one head of width Hkv*d, which q's width does not match
        CliRun oneHead = CliRun.of("op", "attention", "--in", "q=" + qFile, "--in", "K=" + write("k1.npy",
                f32(k, L, 1, HKV * D)), "--in", "V=" + write("v1.npy", f32(v, L, 1, HKV * D)), "--out",
                tmp.resolve("one").toString());
        assertEquals(2, oneHead.exitCode(), oneHead::toString);
        assertTrue(oneHead.errLine().contains("attention:") && oneHead.errLine().contains("'K'"), oneHead::toString);
    }

    @Test
    void attention_should_reject_a_Hkv_parameter_that_contradicts_K_s_shape() throws IOException {
        SplittableRandom r = new SplittableRandom(10);
        CliRun run = CliRun.of("op", "attention", "--in", "q=" + write("q.npy", f32(random(r, HQ * D), HQ, D)),
                "--in", "K=" + write("k.npy", f32(random(r, L * HKV * D), L, HKV, D)),
                "--in", "V=" + write("v.npy", f32(random(r, L * HKV * D), L, HKV, D)),
                "--param", "Hkv=4", "--out", tmp.resolve("out").toString());
        assertEquals(2, run.exitCode(), run::toString);
        assertTrue(run.errLine().contains("'K'") && run.errLine().contains("4*5 = 20"), run::toString);
    }

    @Test
    void vectors_should_be_accepted_as_1d_arrays_and_written_as_1d() throws IOException {
        SplittableRandom r = new SplittableRandom(11);
        String q = write("q.npy", f32(random(r, D), D));
        String keys = write("keys.npy", f32(random(r, L * D), L, D));
        String rowIds = write("rowIds.npy", ints(6, 0, 6, 2));
        CliRun run = CliRun.of("op", "dotRows", "--in", "q=" + q, "--in", "K=" + keys, "--in", "rowIds=" + rowIds,
                "--out", tmp.resolve("rows").toString());
        assertEquals(0, run.exitCode(), run::toString);
        assertArrayEquals(new long[] {4}, Npy.read(tmp.resolve("rows").resolve("s.npy")).shape());
        CliRun bound = CliRun.of("op", "questBound", "--in", "q=" + q, "--in", "min=" + keys, "--in", "max=" + keys,
                "--out", tmp.resolve("bound").toString());
        assertEquals(0, bound.exitCode(), bound::toString);
        assertArrayEquals(new long[] {L}, Npy.read(tmp.resolve("bound").resolve("s.npy")).shape());
    }

    @Test
    void code_inputs_should_be_taken_as_numpy_uint8_without_scales() throws IOException {
        SplittableRandom r = new SplittableRandom(13);
        int p = 9;
        byte[] q = new byte[p];
        byte[] codes = new byte[L * p];
        for (int i = 0; i < q.length; i++) {
            q[i] = (byte) r.nextInt(256);
        }
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (byte) r.nextInt(256);
        }
        String qFile = write("qc.npy", new NpyArray("u8", NpyDtype.U8, new long[] {p}, q));
        String cFile = write("c.npy", new NpyArray("u8", NpyDtype.U8, new long[] {L, p}, codes));
        String ids = write("ids.npy", ints(6, 0, 6));
        for (int bits : new int[] {8, 4}) {
            CliRun run = CliRun.of("op", "codeDotRows", "--in", "queryCodes=" + qFile, "--in", "codes=" + cFile,
                    "--in", "rowIds=" + ids, "--param", "bits=" + bits, "--out", tmp.resolve("b" + bits).toString());
            assertEquals(0, run.exitCode(), run::toString);
            float[] s = floats(Npy.read(tmp.resolve("b" + bits).resolve("s.npy")));
            int[] rows = {6, 0, 6};
            for (int j = 0; j < rows.length; j++) {
                long sum = 0; // the bytes as unsigned codes: a signed read would give negative products
                for (int i = 0; i < p; i++) {
                    int a = q[i] & 0xFF;
                    int c = codes[rows[j] * p + i] & 0xFF;
                    sum += bits == 8 ? a * c : (a >>> 4) * (c >>> 4) + (a & 0xF) * (c & 0xF);
                }
                assertEquals(sum, s[j], bits + "-bit codes of row " + rows[j]);
            }
        }
        CliRun scaled = CliRun.of("op", "codeDotRows", "--in", "queryCodes=" + qFile, "--in", "codes=" + cFile,
                "--in", "codes_scale=" + write("cs.npy", f32(new float[L], L)), "--in", "rowIds=" + ids,
                "--param", "bits=8", "--out", tmp.resolve("scaled").toString());
        assertEquals(2, scaled.exitCode(), scaled::toString);
        assertTrue(scaled.errLine().contains("codes_scale") && scaled.errLine().contains("no scales"),
                scaled::toString);
    }

    private static float[] floats(NpyArray a) {
        ByteBuffer b = ByteBuffer.wrap(a.data()).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[a.data().length / 4];
        for (int i = 0; i < out.length; i++) {
            out[i] = b.getFloat();
        }
        return out;
    }

    @Test
    void an_array_of_more_dimensions_than_its_argument_should_be_a_one_line_error() throws IOException {
        SplittableRandom r = new SplittableRandom(12);
        CliRun run = CliRun.of("op", "dot", "--in", "Q=" + write("q.npy", f32(random(r, D), 1, D)),
                "--in", "M=" + write("m.npy", f32(random(r, L * D), L, 1, D)), "--out", tmp.resolve("o").toString());
        assertEquals(2, run.exitCode(), run::toString);
        assertTrue(run.errLine().contains("dot: input M") && run.errLine().contains("[7, 1, 5]")
                && run.errLine().contains("M[n,d]"), run::toString);
    }

    private String write(String name, NpyArray array) throws IOException {
        Path file = tmp.resolve(name);
        Npy.write(file, array);
        return file.toString();
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) r.nextDouble(-1, 1);
        }
        return out;
    }

    private static NpyArray f32(float[] values, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return new NpyArray("f32", NpyDtype.F32, shape, b.array());
    }

    private static NpyArray ints(int... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            b.putInt(v);
        }
        return new NpyArray("i32", NpyDtype.I32, new long[] {values.length}, b.array());
    }
}
