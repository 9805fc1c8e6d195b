package dev.mempipe.goldentests.npy;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code .npy} reader on arbitrary bytes: it returns an array whose bytes match its shape and dtype, or throws
 * {@link NpyFormatException}; nothing else (no out-of-memory from a forged shape, no arithmetic or index error).
 * What it reads, written again, reads back equal.
 *
 * <p>{@code ./mvnw verify} runs the checked-in inputs under {@code src/test/resources/.../NpyFuzzTestInputs} in
 * seconds; fuzzing for new ones is docs/RELIABILITY.md's long run ({@code JAZZER_FUZZ=1}). Every crash found is
 * kept there as an input, so it is rerun on every build.
 */
class NpyFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void reader_should_return_a_consistent_array_or_a_format_error(byte[] data) throws IOException {
        NpyArray array;
        try {
            array = Npy.read(new ByteArrayInputStream(data), "fuzz.npy");
        } catch (NpyFormatException expected) {
            assertTrue(expected.getMessage().startsWith("fuzz.npy: "), expected.getMessage());
            return;
        }
        long count = 1;
        for (long dim : array.shape()) {
            count *= dim;
        }
        assertEquals(count * array.dtype().itemSize(), array.data().length);
        NpyArray again = Npy.read(new ByteArrayInputStream(Npy.toBytes(array)), "again.npy");
        assertEquals(array, again);
        assertTrue(Arrays.equals(array.data(), again.data()));
    }
}
