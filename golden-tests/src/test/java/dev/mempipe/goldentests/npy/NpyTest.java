package dev.mempipe.goldentests.npy;

import dev.mempipe.spi.Bitmap;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NpyTest {

    private static NpyArray fixture(String name) throws IOException {
        try (InputStream in = NpyTest.class.getResourceAsStream("/npy/" + name)) {
            if (in == null) {
                throw new IOException("missing test resource /npy/" + name);
            }
            return Npy.read(in, name);
        }
    }

    private static byte[] fixtureBytes(String name) throws IOException {
        try (InputStream in = NpyTest.class.getResourceAsStream("/npy/" + name)) {
            return in.readAllBytes();
        }
    }

    private static NpyArray roundTrip(NpyArray a) throws IOException {
        return Npy.read(new ByteArrayInputStream(Npy.toBytes(a)), a.name());
    }

    @ParameterizedTest
    @EnumSource(NpyDtype.class)
    void should_round_trip_every_dtype(NpyDtype dtype) throws IOException {
        byte[] data = new byte[3 * 5 * dtype.itemSize()];
        new Random(dtype.ordinal()).nextBytes(data);
        for (long[] shape : new long[][] {{3, 5}, {15}}) {
            NpyArray a = new NpyArray("x.npy", dtype, shape, data);
            NpyArray back = roundTrip(a);
            assertEquals(dtype, back.dtype());
            assertArrayEquals(shape, back.shape());
            assertArrayEquals(data, back.data());
        }
    }

    @ParameterizedTest
    @EnumSource(ElementType.class)
    void should_round_trip_tensors_of_every_element_type(ElementType type) throws IOException {
        float[] values = {1.5f, -2.25f, 0f, 3.75f, -0.5f, 100f, 0f, 0f, 0f, 7f, -7f, 0.125f};
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = Tensor.encode(arena, type, values, 4, 3);
            NpyArray data = roundTrip(NpyArray.of("t.npy", t));
            NpyArray scales = type.isQuantized() ? roundTrip(NpyArray.scalesOf("t_scale.npy", t)) : null;
            Tensor back = data.toTensor(arena, type, scales);
            assertEquals(t.shapeString(), back.shapeString());
            assertArrayEquals(t.toFloatArray(), back.toFloatArray());
            if (type.isQuantized()) {
                for (int r = 0; r < 4; r++) {
                    assertEquals(t.scale(r), back.scale(r));
                }
            }
        }
    }

    @Test
    void should_round_trip_indices_and_bitmaps() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            Indices idx = Indices.of(arena, 4, 0, Integer.MAX_VALUE, -3);
            assertArrayEquals(idx.toArray(), roundTrip(NpyArray.of("idx.npy", idx)).toIndices(arena).toArray());

            Bitmap bits = Bitmap.allocate(arena, 70);
            bits.set(0, true);
            bits.set(64, true);
            bits.set(69, true);
            Bitmap back = roundTrip(NpyArray.of("bitmap.npy", bits)).toBitmap(arena);
            assertEquals(70, back.length());
            for (int i = 0; i < 70; i++) {
                assertEquals(bits.get(i), back.get(i), "bit " + i);
            }
        }
    }

    @Test
    void should_write_the_same_bytes_as_numpy() throws IOException {
        for (String name : new String[] {"f4_2x3.npy", "i1_2x4.npy", "u1_6.npy", "f4_scalar.npy", "f4_empty.npy"}) {
            assertArrayEquals(fixtureBytes(name), Npy.toBytes(fixture(name)), name);
        }
    }

    @Test
    void should_read_float_files_numpy_wrote() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            Tensor f4 = fixture("f4_2x3.npy").toTensor(arena, ElementType.F32);
            assertEquals("[2, 3] F32", f4.shapeString());
            assertArrayEquals(new float[] {1.5f, -2f, 0f, 3.25f, -0f, 1e-3f}, f4.toFloatArray());
            assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(f4.get(1, 1)));

            Tensor f2 = fixture("f2_5.npy").toTensor(arena, ElementType.F16);
            assertEquals("[1, 5] F16", f2.shapeString());
            assertEquals(65504f, f2.get(0, 2));
            assertEquals(-0.5f, f2.get(0, 1));

            Tensor bf16 = fixture("u2_bf16_3.npy").toTensor(arena, ElementType.BF16);
            assertArrayEquals(new float[] {1f, -1.5f, Float.POSITIVE_INFINITY}, bf16.toFloatArray());

            Tensor scalar = fixture("f4_scalar.npy").toTensor(arena, ElementType.F32);
            assertEquals("[1, 1] F32", scalar.shapeString());
            assertEquals(2.5f, scalar.get(0, 0));

            assertEquals(0, fixture("f4_empty.npy").toTensor(arena, ElementType.F32).rows());
            assertArrayEquals(new double[] {0.1, -1e300}, fixture("f8_2.npy").toDoubles());
        }
    }

    @Test
    void should_read_integer_files_numpy_wrote_with_separate_scales() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            NpyArray codes = fixture("i1_2x4.npy");
            assertEquals(NpyDtype.I8, codes.dtype());
            NpyArray scales = new NpyArray("i1_2x4_scale.npy", NpyDtype.F32, new long[] {2}, floatBytes(0.5f, 2f));
            Tensor t = codes.toTensor(arena, ElementType.I8, scales);
            assertEquals(-128, t.code(0, 0));
            assertEquals(127, t.code(0, 1));
            assertEquals(63.5f, t.get(0, 1));
            assertEquals(-128f, t.get(1, 3));

            Tensor i16 = fixture("i2_1x3.npy").toTensor(arena, ElementType.I16,
                    new NpyArray("i2_1x3_scale.npy", NpyDtype.F32, new long[] {1}, floatBytes(1f)));
            assertEquals(-32768, i16.code(0, 0));
            assertEquals(32767, i16.code(0, 1));

            assertArrayEquals(new int[] {3, 0, Integer.MAX_VALUE, -1}, fixture("i4_4.npy").toIndices(arena).toArray());
            assertArrayEquals(new int[] {5, 0, 7}, fixture("i8_3.npy").toIndices(arena).toArray());

            Bitmap bits = fixture("u1_6.npy").toBitmap(arena);
            assertEquals(6, bits.length());
            assertEquals(3, bits.cardinality());
            assertTrue(bits.get(0) && bits.get(3) && bits.get(4));
        }
    }

    @Test
    void should_read_a_version_2_header() throws IOException {
        NpyArray a = fixture("f4_v2_2x2.npy");
        assertArrayEquals(new long[] {2, 2}, a.shape());
        assertArrayEquals(new double[] {1, 2, 3, 4}, a.toDoubles());

        byte[] ours = Npy.toBytes(a, 2);
        assertEquals(2, ours[6]);
        assertEquals(a, Npy.read(new ByteArrayInputStream(ours), "ours.npy"));
        assertEquals(0, (ours.length - a.data().length) % 64, "data starts 64-byte aligned");
    }

    @Test
    void should_write_version_1_for_small_headers() {
        // a header over 65535 bytes, which would need 2.0, cannot come from a rank <= 2 shape
        NpyArray a = new NpyArray("x.npy", NpyDtype.F32, new long[] {1, 1}, new byte[4]);
        assertEquals(1, Npy.toBytes(a)[6]);
    }

    @Test
    void should_reject_bad_magic_naming_the_file() {
        byte[] bytes = "not a numpy file at all".getBytes();
        NpyFormatException e = assertThrows(NpyFormatException.class,
                () -> Npy.read(new ByteArrayInputStream(bytes), "junk.npy"));
        assertTrue(e.getMessage().startsWith("junk.npy: bad magic"), e.getMessage());
    }

    @Test
    void should_reject_truncated_data_with_both_sizes() throws IOException {
        byte[] full = fixtureBytes("f4_2x3.npy");
        byte[] cut = Arrays.copyOf(full, full.length - 5);
        NpyFormatException e = assertThrows(NpyFormatException.class,
                () -> Npy.read(new ByteArrayInputStream(cut), "cut.npy"));
        assertEquals("cut.npy: truncated data: expected 24 bytes got 19", e.getMessage());
    }

    @Test
    void should_reject_a_truncated_header() throws IOException {
        byte[] cut = Arrays.copyOf(fixtureBytes("f4_2x3.npy"), 30);
        NpyFormatException e = assertThrows(NpyFormatException.class,
                () -> Npy.read(new ByteArrayInputStream(cut), "cut.npy"));
        assertTrue(e.getMessage().contains("truncated header"), e.getMessage());
    }

    @Test
    void should_reject_fortran_order_big_endian_and_rank_4() throws IOException {
        NpyFormatException fortran = assertThrows(NpyFormatException.class, () -> fixture("f4_fortran.npy"));
        assertTrue(fortran.getMessage().contains("fortran_order True"), fortran.getMessage());
        NpyFormatException big = assertThrows(NpyFormatException.class, () -> fixture("f4_bigendian.npy"));
        assertTrue(big.getMessage().contains("unsupported dtype '>f4'"), big.getMessage());
        // rank 3 is read since attention's K[L, Hkv, d] comes so from NumPy; one more dimension is not
        String header = new String(fixtureBytes("f4_rank3.npy"), StandardCharsets.ISO_8859_1);
        byte[] rank4 = header.replace("(2, 2, 2), }   ", "(2, 2, 2, 1), }").getBytes(StandardCharsets.ISO_8859_1);
        NpyFormatException e = assertThrows(NpyFormatException.class,
                () -> Npy.read(new ByteArrayInputStream(rank4), "rank4.npy"));
        assertTrue(e.getMessage().contains("rank 4"), e.getMessage());
    }

    @Test
    void should_read_rank_3_as_rows_of_the_last_two_dimensions_in_c_order() throws IOException {
        NpyArray a = fixture("f4_rank3.npy");
        assertArrayEquals(new long[] {2, 2, 2}, a.shape());
        assertEquals(2, a.rows());
        assertEquals(4, a.cols());
        NpyArray back = roundTrip(a);
        assertArrayEquals(a.shape(), back.shape());
        assertArrayEquals(a.data(), back.data());
    }

    @Test
    void should_reject_conversions_that_do_not_match_the_dtype() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            NpyArray f4 = fixture("f4_2x3.npy");
            assertThrows(IllegalArgumentException.class, () -> f4.toTensor(arena, ElementType.F16));
            assertThrows(IllegalArgumentException.class, () -> f4.toIndices(arena));
            assertThrows(IllegalArgumentException.class, () -> fixture("i1_2x4.npy").toTensor(arena, ElementType.I8));
            NpyArray wide = new NpyArray("wide.npy", NpyDtype.I64, new long[] {1}, longBytes(1L << 40));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> wide.toIndices(arena));
            assertTrue(e.getMessage().contains("does not fit an int"), e.getMessage());
            NpyArray two = new NpyArray("b.npy", NpyDtype.U8, new long[] {2}, new byte[] {1, 2});
            assertThrows(IllegalArgumentException.class, () -> two.toBitmap(arena));
        }
    }

    @Test
    void should_write_and_read_files_on_disk(@TempDir Path dir) throws IOException {
        NpyArray a = fixture("i8_3.npy");
        Path file = dir.resolve("idx.npy");
        Npy.write(file, a);
        assertEquals(a, Npy.read(file));
        Files.write(file, new byte[] {(byte) 0x93, 'N', 'U'});
        NpyFormatException e = assertThrows(NpyFormatException.class, () -> Npy.read(file));
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
    }

    private static byte[] floatBytes(float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    private static byte[] longBytes(long... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            b.putLong(v);
        }
        return b.array();
    }
}
