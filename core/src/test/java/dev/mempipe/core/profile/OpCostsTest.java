package dev.mempipe.core.profile;

import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.PoolMode;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static dev.mempipe.spi.ElementType.BF16;
import static dev.mempipe.spi.ElementType.F16;
import static dev.mempipe.spi.ElementType.F32;
import static dev.mempipe.spi.ElementType.I16;
import static dev.mempipe.spi.ElementType.I8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each op's counts for concrete shapes, worked out by hand from the formula in its javadoc. */
class OpCostsTest {

    static void assertCost(long read, long written, long flops, OpCost cost) {
        assertEquals(new OpCost(read, written, flops), cost);
    }

    @Test
    void should_count_dot_for_float_integer_and_mixed_types() {
        // Q 3x128 f32 (1536 B) + M 1000x128 f32 (512000 B); S 3x1000 f32; 2*3*1000*128 FLOPs.
        assertCost(513_536, 12_000, 768_000, OpCosts.dot(3, 1000, 128, F32, F32));
        // I8 codes plus one f32 scale per row: q 128 + 4, M 128000 + 4000.
        assertCost(132_132, 4_000, 256_000, OpCosts.dot(1, 1000, 128, I8, I8));
        // F16 query, BF16 memory, F16 scores.
        assertCost(1_536, 40, 2_560, OpCosts.dot(2, 10, 64, F16, BF16, F16));
        // cosine adds the norms: 2*(2+10)*64.
        assertCost(3_072, 80, 2_560 + 1_536, OpCosts.cosine(2, 10, 64, F32, F32, F32));
    }

    @Test
    void should_count_the_prepare_ops() {
        // L=1000, P=16: 63 pages (the last partial).
        assertCost(512_000, 2 * 63 * 128 * 4, 256_000, OpCosts.pageMinMax(1000, 128, 16, F32, F32));
        // Rows 990..999: 10 new rows; row 990 is inside page 61 (976..991), which already held rows, so its
        // min and max rows are read to merge; pages 61 and 62 are written.
        assertCost(10 * 512 + 2 * 512, 2 * 2 * 512, 2 * 10 * 128,
                OpCosts.pageMinMaxAppend(1000, 990, 128, 16, F32, F32));
        // From a page boundary (992): nothing to merge, one page written.
        assertCost(8 * 512, 2 * 512, 2 * 8 * 128, OpCosts.pageMinMaxAppend(1000, 992, 128, 16, F32, F32));
        assertCost(0, 0, 0, OpCosts.pageMinMaxAppend(1000, 1000, 128, 16, F32, F32));
        assertCost(512_000, 63 * 128 * 2, 128_000 + 63 * 128, OpCosts.pagePool(1000, 128, 16, PoolMode.MEAN, F32, F16));
        assertCost(512_000, 63 * 128 * 2, 128_000, OpCosts.pagePool(1000, 128, 16, PoolMode.MAX, F32, F16));
        // X 4096x4096 f32 + W 128x4096 f16; Y 4096x128 f32; 2*4096*4096*128 FLOPs.
        assertCost(67_108_864 + 1_048_576, 2_097_152, 4_294_967_296L, OpCosts.project(4096, 4096, 128, F32, F16, F32));
        assertCost((6 + 8) + (15 + 20), 40, 60, OpCosts.project(2, 3, 5, I8, I8, F32));
        assertCost(256, 64 + 16, 3 * 64, OpCosts.quantize(4, 16, F32, I8));
        assertCost(128 + 16, 256, 64, OpCosts.dequantize(4, 16, I16, F32));
        assertCost(256, 128, 0, OpCosts.convert(4, 16, F32, BF16));
        assertCost(64 + 16, 128 + 16, 64 + 3 * 64, OpCosts.convert(4, 16, I8, I16));
        assertCost(15_360, 15_360, 3 * 3840 + 20, OpCosts.l2Normalize(10, 384, F32, F32));
        assertCost(5_120 + 40, 5_120, 3 * 1280, OpCosts.rope(10, 128, F32, F32));
    }

    @Test
    void should_count_bm25_index_and_score_from_the_index_itself() {
        // Documents d0=[1,2,2], d1=[2,3], d2=[5]: vocabulary 6, postings t1:(d0,1) t2:(d0,2),(d1,1) t3:(d1,1) t5:(d2,1).
        Bm25Index index = new Bm25Index(new int[] {3, 2, 1}, new int[] {0, 1, 2, 1, 0, 1},
                new int[] {0, 0, 1, 3, 4, 4, 5}, new int[] {0, 0, 1, 1, 2}, new int[] {1, 2, 1, 1, 1});
        try (Arena arena = Arena.ofConfined()) {
            Indices offsets = Indices.of(arena, 0, 3, 5, 6);
            Indices tokens = Indices.of(arena, 1, 2, 2, 2, 3, 5);
            assertCost(4 * (4 + 6), 4 * 3 + 4 * 6 + 4 * 7 + 8 * 5, 0, OpCosts.bm25Index(offsets, tokens, index));
            // Query [2, 2, 3, 9]: term 2 counts once (2 postings), term 3 has 1 posting, 9 is unknown.
            Indices query = Indices.of(arena, 2, 2, 3, 9);
            assertCost(12 * 2 + 12 * 3, 3 * 4, 6 * 2 + 8 * 3, OpCosts.bm25Score(query, index, F32));
        }
        assertCost(36 + 6_000, 40_000, 18 + 4_000, OpCosts.bm25Score(3, 500, 10_000, F32));
    }

    @Test
    void should_count_the_relevancy_ops() {
        assertCost(512 + 65_536, 256, 32_768, OpCosts.questBound(64, 128, F32, F32, F32));
        // one query, 32 gathered BF16 rows and their ids; 2*k*d FLOPs
        assertCost(512 + 32 * 128 * 2 + 32 * 4, 32 * 4, 2 * 32 * 128, OpCosts.dotRows(32, 128, F32, BF16, F32));
        assertCost(4_000, 63 * 4, 1_000, OpCosts.groupMax(1000, 16, F32, F32));
        assertCost(4_000, 2_000, 6_000, OpCosts.softmax(1000, F32, F16));
        // q 64x128 f16, w 64 f32, K 10000x128 i8 with scales, kScale 10000 f32.
        assertCost(16_384 + 256 + 1_280_000 + 40_000 + 40_000, 40_000, 163_840_000L + 2_560_000L,
                OpCosts.indexerScore(64, 128, 10_000, F16, I8, true, F32));
        assertCost(16_384 + 256 + 1_280_000 + 40_000, 40_000, 163_840_000L + 1_920_000L,
                OpCosts.indexerScore(64, 128, 10_000, F16, I8, false, F32));
    }

    @Test
    void should_count_the_retrieval_ops() {
        assertCost(400_000, 2048 * 8, 100_000, OpCosts.topK(100_000, 2048));
        assertCost(40, 10 * 8, 10, OpCosts.topK(10, 64));
        assertCost(200, 5 * 4, 100, OpCosts.topK(100, 5, F16, false));
        assertCost(400, 16, 100, OpCosts.threshold(100, F32));
        assertCost(16, 28, 0, OpCosts.bitmapToIndices(100, 7));
        assertCost(32, 512, 0, OpCosts.expandBlocks(8, 128));
        assertCost(64 * 128 + 64 * 4 + 64 * 4, 64 * 128 + 64 * 4, 0, OpCosts.gather(64, 128, I8));
    }

    @Test
    void should_count_the_apply_ops() {
        // q 32x128 f32; K and V 2048 rows of 8 heads x 128 f16; 2048 indices; o 32x128 f32.
        assertCost(16_384 + 2 * 2048 * 8 * 128 * 2 + 2048 * 4, 16_384, 4L * 32 * 2048 * 128,
                OpCosts.attention(32, 8, 128, 2048, F32, F16, F32, true));
        // Dense, I8 KV: each of the 3 rows of K and of V holds 2*8 codes and one scale.
        assertCost(128 + 2 * (3 * 16 + 3 * 4), 128, 4 * 4 * 3 * 8, OpCosts.attention(4, 2, 8, 3, F32, I8, F32, false));
        assertCost(40 + 1_280, 256, 1_280, OpCosts.softRetrieve(10, 64, F32, F16, F32));
    }

    @Test
    void should_reject_bad_sizes() {
        assertThrows(IllegalArgumentException.class, () -> OpCosts.dot(-1, 2, 3, F32, F32));
        assertThrows(IllegalArgumentException.class, () -> OpCosts.topK(10, 0));
        assertThrows(IllegalArgumentException.class, () -> OpCosts.pageMinMax(10, 4, 0, F32, F32));
        assertThrows(IllegalArgumentException.class, () -> OpCosts.pageMinMaxAppend(10, 11, 4, 2, F32, F32));
        assertThrows(IllegalArgumentException.class, () -> OpCosts.attention(6, 4, 8, 3, F32, F32, F32, false));
        assertThrows(IllegalArgumentException.class, () -> OpCosts.quantize(1, 1, F32, F16));
        assertThrows(ArithmeticException.class, () -> OpCosts.dot(1L << 40, 1L << 40, 1, F32, F32));
    }

    @Test
    void should_add_scale_and_divide_costs() {
        OpCost a = new OpCost(10, 2, 36);
        assertEquals(new OpCost(20, 4, 72), a.plus(a));
        assertEquals(new OpCost(30, 6, 108), a.times(3));
        assertEquals(3.0, a.intensity());
        assertTrue(Double.isNaN(OpCost.ZERO.intensity()));
        assertEquals(Double.POSITIVE_INFINITY, new OpCost(0, 0, 1).intensity());
        assertThrows(IllegalArgumentException.class, () -> new OpCost(-1, 0, 0));
    }
}
