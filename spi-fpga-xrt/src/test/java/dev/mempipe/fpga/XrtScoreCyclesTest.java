package dev.mempipe.fpga;

import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * csim's cycle count of the score kernel's bounding stage (the II=1 loop that reads one 512-bit key word a
 * cycle): keys are read once whatever the number of query rows, so over I16 keys it stays within
 * {@code 1.1 x key bytes / (64 B x channels) + 1000}. csim models one channel; the synthesized design spreads
 * keys over 8 (or 16, 32), which this functional model does not check (docs/fpga.md).
 */
class XrtScoreCyclesTest {

    @Test
    void the_bounding_stage_should_read_each_key_word_once() {
        try (XrtBackend backend = Csim.csimBackend(); Arena arena = Arena.ofConfined()) {
            SplittableRandom r = new SplittableRandom(7);
            int n = 3000;
            int d = 128;
            int m = 5;
            float[] k = new float[n * d];
            float[] q = new float[m * d];
            for (int i = 0; i < k.length; i++) {
                k[i] = (float) r.nextDouble(-1, 1);
            }
            for (int i = 0; i < q.length; i++) {
                q[i] = (float) r.nextDouble(-1, 1);
            }
            Tensor keys = Tensor.encode(arena, ElementType.I16, k, n, d);
            Tensor query = Tensor.encode(arena, ElementType.I16, q, m, d);
            backend.dot(query, keys, Tensor.allocate(arena, ElementType.F32, m, n));
            long keyBytes = (long) n * d * ElementType.I16.byteSize();
            int channels = 1;
            double bound = 1.1 * keyBytes / (64.0 * channels) + 1000;
            long trips = backend.lastScoreTrips();
            assertTrue(trips >= keyBytes / 64, "the kernel read " + trips + " words, fewer than the keys' "
                    + keyBytes / 64);
            assertTrue(trips <= bound, "bounding stage " + trips + " cycles > " + bound + " (1.1 x " + keyBytes
                    + " B / (64 B x " + channels + ") + 1000)");
        }
    }
}
