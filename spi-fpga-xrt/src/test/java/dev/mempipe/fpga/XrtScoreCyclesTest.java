package dev.mempipe.fpga;

import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * csim's cycle count of the score kernel's bounding stage (the II=1 loops that read one 512-bit key word a cycle,
 * one per HBM channel, side by side): keys are spread row by row over the channels and read once whatever the
 * number of query rows, so over I16 keys the busiest channel stays within
 * {@code 1.1 x key bytes / (64 B x channels) + 1000} trips, for each of the 8, 16 and 32-channel builds. csim
 * counts loop trips; that the synthesized loop reaches II=1 at 300 MHz is Vitis's to show (docs/fpga.md).
 */
class XrtScoreCyclesTest {

    @ParameterizedTest(name = "{0} HBM channels")
    @ValueSource(ints = {8, 16, 32})
    void the_bounding_stage_should_read_each_key_word_once_spread_over_the_channels(int channels) {
        String before = System.getProperty("mempipe.xrt.channels");
        System.setProperty("mempipe.xrt.channels", Integer.toString(channels));
        try (XrtBackend backend = Csim.csimBackend(); Arena arena = Arena.ofConfined()) {
            assertEquals(channels, backend.channels());
            SplittableRandom r = new SplittableRandom(7);
            int n = 3001; // not a multiple of any channel count
            int d = 128;
            int m = 5;
            Tensor keys = Tensor.encode(arena, ElementType.I16, random(r, n * d), n, d);
            Tensor query = Tensor.encode(arena, ElementType.I16, random(r, m * d), m, d);
            Tensor got = Tensor.allocate(arena, ElementType.F32, m, n);
            backend.dot(query, keys, got);
            long keyBytes = (long) n * d * ElementType.I16.byteSize();
            double bound = 1.1 * keyBytes / (64.0 * channels) + 1000;
            long trips = backend.lastScoreTrips();
            assertTrue(trips >= keyBytes / 64 / channels, "the busiest channel read " + trips + " words, fewer than"
                    + " its share " + keyBytes / 64 / channels + " of the keys' " + keyBytes / 64);
            assertTrue(trips <= bound, "bounding stage " + trips + " cycles > " + bound + " (1.1 x " + keyBytes
                    + " B / (64 B x " + channels + ") + 1000)");
            // the integer path is exact: the spread must not have moved or lost a row
            for (int i = 0; i < n; i += 97) {
                long sum = 0;
                for (int c = 0; c < d; c++) {
                    sum += (long) query.code(2, c) * keys.code(i, c);
                }
                float expected = (float) ((double) sum * query.scale(2) * keys.scale(i));
                assertEquals(expected, got.get(2, i), "row " + i + " of " + n + " over " + channels + " channels");
            }
        } finally {
            if (before == null) {
                System.clearProperty("mempipe.xrt.channels");
            } else {
                System.setProperty("mempipe.xrt.channels", before);
            }
        }
    }

    @Test
    void more_query_rows_should_not_read_the_keys_again() {
        try (XrtBackend backend = Csim.csimBackend(); Arena arena = Arena.ofConfined()) {
            SplittableRandom r = new SplittableRandom(11);
            int n = 1000;
            int d = 64;
            Tensor keys = Tensor.encode(arena, ElementType.I16, random(r, n * d), n, d);
            backend.dot(Tensor.encode(arena, ElementType.I16, random(r, d), 1, d), keys,
                    Tensor.allocate(arena, ElementType.F32, 1, n));
            long one = backend.lastScoreTrips();
            backend.dot(Tensor.encode(arena, ElementType.I16, random(r, 40 * d), 40, d), keys,
                    Tensor.allocate(arena, ElementType.F32, 40, n));
            assertEquals(one, backend.lastScoreTrips(), "40 query rows in one run read the keys once, as one row does");
        }
    }

    private static float[] random(SplittableRandom r, int count) {
        float[] v = new float[count];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextDouble(-1, 1);
        }
        return v;
    }
}
