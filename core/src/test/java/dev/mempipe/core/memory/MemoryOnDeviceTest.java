package dev.mempipe.core.memory;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.pipeline.PipelineTesting;
import dev.mempipe.core.placement.FakeBackend;
import dev.mempipe.core.profile.StepRecord;
import dev.mempipe.ops.SimdBackend;
import dev.mempipe.spi.BackendException;
import dev.mempipe.spi.Bm25Params;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Step;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Random;
import java.util.function.BiConsumer;

import static dev.mempipe.core.memory.MemoryTesting.assertSameBits;
import static dev.mempipe.core.memory.MemoryTesting.randomRows;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every op of a memory runs through its engine: on the device the plan chose for the op's step, recorded there, and
 * rerun on the CPU, with the CPU's answer, after a device writes garbage and fails transiently. The device is
 * {@link FakeBackend} over the SIMD backend, the CPU the SIMD backend, so answers compare bit for bit.
 */
class MemoryOnDeviceTest {
    static final long SEED = 20261207L;

    private static FakeBackend device() {
        return FakeBackend.working("fake-gpu", new SimdBackend(), Capabilities.all());
    }

    private static Engine cpuOnly() {
        return MemoryTesting.engine(new SimdBackend());
    }

    private static void assertFellBackFrom(StepRecord r, String device) {
        assertTrue(r.fellBack(), r.toString());
        assertEquals(device, r.fallback().fromDevice(), r.toString());
        assertTrue(r.fallback().reason().contains(BackendException.class.getName()), r.fallback().reason());
    }

    @Test
    void paged_kv_appends_should_run_on_the_prepare_device_and_a_faulted_merge_should_rerun_from_the_saved_page() {
        FakeBackend gpu = device();
        Engine engine = PipelineTesting.engineWith(gpu, Step.PREPARE);
        long[] sizes = {5, 7, 6, 3}; // page size 4: the 2nd and 4th appends merge into a partial page
        try (Arena arena = Arena.ofShared()) {
            Random random = new Random(SEED);
            Tensor keys = randomRows(arena, random, 21, 2 * 3);
            Tensor values = randomRows(arena, random, 21, 2 * 3);
            var expected = new PagedKvMemory(arena, cpuOnly(), 2, 3, 21, ElementType.F32, 4);
            var memory = new PagedKvMemory(arena, engine, 2, 3, 21, ElementType.F32, 4);
            long at = 0;
            for (int i = 0; i < sizes.length; i++) {
                if (i == 1) {
                    // the 2nd append's 3rd call, pageMinMaxAppend: it merges, writes NaN over max, then fails
                    gpu.failOnCall(3, BackendException.Fault.TRANSIENT, true);
                }
                Tensor k = keys.rowSlice(at, at + sizes[i]);
                Tensor v = values.rowSlice(at, at + sizes[i]);
                expected.append(k, v);
                memory.append(k, v);
                at += sizes[i];
            }
            var want = expected.snapshot();
            var got = memory.snapshot();
            assertSameBits(want.keys(), got.keys(), "keys");
            assertSameBits(want.values(), got.values(), "values");
            assertSameBits(want.pageMin(), got.pageMin(), "page min");
            assertSameBits(want.pageMax(), got.pageMax(), "page max (merged once, into the page as it was)");
        }
        assertEquals(4 * 3, gpu.calls(), "every append's convert, convert and pageMinMaxAppend reached the device");
        List<StepRecord> records = engine.report().records();
        assertEquals(4, records.size(), records.toString());
        for (StepRecord r : records) {
            assertEquals(Step.PREPARE, r.step());
            assertEquals(PagedKvMemory.APPEND_LABEL, r.op());
        }
        assertEquals("fake-gpu", records.get(0).device());
        assertFellBackFrom(records.get(1), "fake-gpu");
        assertEquals(engine.cpu().name(), records.get(1).device(), "the CPU wrote the faulted append");
        assertEquals("fake-gpu", records.get(2).device(), "a transient fault keeps the device in use");
    }

    @Test
    void bm25_index_search_and_scores_should_run_on_the_planned_devices_and_fall_back_with_the_same_hits() {
        FakeBackend gpu = device();
        Engine engine = PipelineTesting.engineWith(gpu, Step.PREPARE, Step.RELEVANCY, Step.RETRIEVAL);
        Random random = new Random(SEED);
        int[][] docs = new int[40][];
        for (int d = 0; d < docs.length; d++) {
            docs[d] = random.ints(1 + random.nextInt(12), 0, 30).toArray();
        }
        int[] query = {3, 7, 11, 29};
        try (Arena arena = Arena.ofShared()) {
            var expected = new Bm25Memory(arena, cpuOnly(), docs.length, 1000);
            var memory = new Bm25Memory(arena, engine, docs.length, 1000);
            for (int[] doc : docs) {
                expected.append(doc);
                memory.append(doc);
            }
            Hits want = expected.search(query, 5, Bm25Params.DEFAULT);
            float[] wantScores = expected.scores(query, Bm25Params.DEFAULT);

            Hits onDevice = memory.search(query, 5, Bm25Params.DEFAULT);
            List<String> ops = engine.report().records().stream().map(r -> r.op() + "@" + r.device()).toList();
            assertEquals(List.of("bm25Index@fake-gpu", "bm25Score@fake-gpu", "topK@fake-gpu"), ops);

            gpu.failOnCall(1, BackendException.Fault.TRANSIENT, false);        // bm25Score fails
            Hits scoreFault = memory.search(query, 5, Bm25Params.DEFAULT);
            gpu.failOnCall(2, BackendException.Fault.TRANSIENT, true);         // topK writes -7s and NaN, then fails
            Hits topKFault = memory.search(query, 5, Bm25Params.DEFAULT);
            gpu.failOnCall(1, BackendException.Fault.TRANSIENT, false);
            float[] scores = memory.scores(query, Bm25Params.DEFAULT);

            for (Hits got : List.of(onDevice, scoreFault, topKFault)) {
                assertArrayEquals(want.ids(), got.ids());
                assertArrayEquals(want.scores(), got.scores());
            }
            assertArrayEquals(wantScores, scores);
            memory.close();
        }
        List<StepRecord> records = engine.report().records();
        assertFellBackFrom(records.get(3), "fake-gpu");                         // the 2nd search's bm25Score
        assertEquals("bm25Score", records.get(3).op());
        assertEquals("topK", records.get(4).op());
        assertFalse(records.get(4).fellBack());
        assertFellBackFrom(records.get(6), "fake-gpu");                         // the 3rd search's topK
        assertEquals("topK", records.get(6).op());
        assertFellBackFrom(records.get(7), "fake-gpu");                         // scores()
        assertEquals(8, records.size(), records.toString());
    }

    /** How many backend calls {@code action} makes on a fresh device, from a memory built the same way. */
    private static int callsOf(BiConsumer<Engine, Arena> action) {
        FakeBackend counter = device();
        try (Arena arena = Arena.ofShared()) {
            action.accept(PipelineTesting.engineWith(counter, Step.PREPARE), arena);
        }
        return counter.calls();
    }

    @Test
    void a_block_gate_append_faulted_after_overwriting_the_remainder_should_pool_the_remainder_as_it_was() {
        int kvHeads = 2;
        int d = 3;
        int blockSize = 4;
        Random random = new Random(SEED);
        try (Arena data = Arena.ofShared()) {
            Tensor w = randomRows(data, random, 5, 3 * d);
            Tensor keys = randomRows(data, random, 11, kvHeads * d);
            // 3 rows held, then 8: completes the block from the remainder, pools one whole block, holds 3 new rows
            // (the last call converts them over the old remainder)
            BiConsumer<Engine, Arena> first = (e, a) -> new BlockGateMemory(a, e, kvHeads, d, w, 11, blockSize)
                    .append(keys.rowSlice(0, 3));
            BiConsumer<Engine, Arena> both = (e, a) -> {
                var m = new BlockGateMemory(a, e, kvHeads, d, w, 11, blockSize);
                m.append(keys.rowSlice(0, 3));
                m.append(keys.rowSlice(3, 11));
            };
            int secondCalls = callsOf(both) - callsOf(first);

            FakeBackend gpu = device();
            Engine engine = PipelineTesting.engineWith(gpu, Step.PREPARE);
            try (Arena arena = Arena.ofShared()) {
                var expected = new BlockGateMemory(arena, cpuOnly(), kvHeads, d, w, 11, blockSize);
                var memory = new BlockGateMemory(arena, engine, kvHeads, d, w, 11, blockSize);
                expected.append(keys.rowSlice(0, 3));
                memory.append(keys.rowSlice(0, 3));
                gpu.failOnCall(secondCalls, BackendException.Fault.TRANSIENT, true);
                expected.append(keys.rowSlice(3, 11));
                memory.append(keys.rowSlice(3, 11));

                assertEquals(2, memory.blocks());
                assertSameBits(expected.gateKeys(), memory.gateKeys(), "gate keys");
                assertSameBits(expected.remainder(), memory.remainder(), "remainder");
            }
            List<StepRecord> records = engine.report().records();
            StepRecord faulted = records.getLast();
            assertEquals(BlockGateMemory.APPEND_LABEL, faulted.op());
            assertFellBackFrom(faulted, "fake-gpu");
            assertEquals("fake-gpu", records.get(records.size() - 2).device(), "the first append ran on the device");
        }
    }

    @Test
    void indexer_keys_and_compressed_reads_should_run_on_the_device_and_fall_back_with_the_cpu_answer() {
        FakeBackend gpu = device();
        Engine engine = PipelineTesting.engineWith(gpu, Step.values());
        Random random = new Random(SEED);
        try (Arena arena = Arena.ofShared()) {
            Tensor rows = randomRows(arena, random, 9, 8);
            var expectedKeys = new IndexerKeyMemory(arena, cpuOnly(), 8, 9, ElementType.I8);
            var keys = new IndexerKeyMemory(arena, engine, 8, 9, ElementType.I8);
            expectedKeys.append(rows.rowSlice(0, 4));
            keys.append(rows.rowSlice(0, 4));
            gpu.failOnCall(1, BackendException.Fault.TRANSIENT, true);
            expectedKeys.append(rows.rowSlice(4, 9));
            keys.append(rows.rowSlice(4, 9));
            assertSameBits(expectedKeys.keys(), keys.keys(), "indexer keys");

            var expected = new CompressedMemory(arena, cpuOnly(), 8, 4);
            var memory = new CompressedMemory(arena, engine, 8, 4);
            expected.append(rows.rowSlice(0, 6));
            memory.append(rows.rowSlice(0, 6));
            Tensor query = randomRows(arena, random, 1, 8);
            Tensor want = Tensor.allocate(arena, ElementType.F32, 1, 8);
            Tensor got = Tensor.allocate(arena, ElementType.F32, 1, 8);
            float[] wantWeights = expected.softRead(query, 0.5f, want);
            gpu.failOnCall(2, BackendException.Fault.TRANSIENT, true); // softmax, in place: NaN over its input, fails
            float[] gotWeights = memory.softRead(query, 0.5f, got);
            assertArrayEquals(wantWeights, gotWeights);
            assertArrayEquals(want.toFloatArray(), got.toFloatArray());
            memory.close();
            keys.close();
        }
        List<String> ops = engine.report().records().stream()
                .map(r -> r.op() + "@" + r.device() + (r.fellBack() ? "(fallback)" : "")).toList();
        String cpu = engine.cpu().name();
        assertEquals(List.of("quantize@fake-gpu", "quantize@" + cpu + "(fallback)", "convert@fake-gpu",
                "dot@fake-gpu", "softmax@" + cpu + "(fallback)", "softRetrieve@fake-gpu"), ops);
    }
}
