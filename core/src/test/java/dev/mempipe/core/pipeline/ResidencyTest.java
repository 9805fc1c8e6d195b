package dev.mempipe.core.pipeline;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.PagedKvMemory;
import dev.mempipe.core.placement.Device;
import dev.mempipe.core.placement.DeviceModel;
import dev.mempipe.core.placement.Links;
import dev.mempipe.core.placement.Planner;
import dev.mempipe.core.placement.StepShape;
import dev.mempipe.core.placement.TransferModel;
import dev.mempipe.core.placement.WorkloadShape;
import dev.mempipe.core.profile.EnergyMeter;
import dev.mempipe.core.profile.StepRecord;
import dev.mempipe.goldentests.SeparateCopyDevice;
import dev.mempipe.ops.SimdBackend;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Step;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Memories pinned on a device that keeps a separate copy (as GPU memory does) must give the CPU's answers while
 * they grow: every append refreshes what it wrote. A device that ignores refresh must be caught by the same
 * comparison. And when Relevancy and Retrieval share a device, the pipeline runs them as one fused op.
 */
class ResidencyTest {
    static final AttentionShape SHAPE = new AttentionShape(6, 2, 16);
    static final QuestPipeline.Settings SETTINGS = new QuestPipeline.Settings(16, 64, 5, 7);
    static final long LENGTH = 700;

    /** Device backends keep every pin's copy until they are closed (the native memory check counts them). */
    private final List<SeparateCopyDevice> devices = new java.util.ArrayList<>();

    private SeparateCopyDevice closedAfter(SeparateCopyDevice device) {
        devices.add(device);
        return device;
    }

    @org.junit.jupiter.api.AfterEach
    void closeDevices() {
        devices.forEach(SeparateCopyDevice::close);
    }

    @Test
    void quest_on_a_separate_copy_device_should_equal_the_cpu_while_the_memory_grows() {
        List<float[]> cpu = run(PipelineTesting.engine());
        SeparateCopyDevice device = closedAfter(new SeparateCopyDevice("copy-gpu", new SimdBackend()));
        Engine onDevice = engineWith(device, Step.PREPARE, Step.RELEVANCY, Step.RETRIEVAL, Step.APPLY);
        List<float[]> copied = run(onDevice);
        for (int i = 0; i < cpu.size(); i++) {
            assertArrayEquals(cpu.get(i), copied.get(i), "decode step " + i + " differs on the device");
        }
        assertTrue(onDevice.report().records().stream().anyMatch(r -> r.op().equals("questBoundTopK")
                && r.device().equals("copy-gpu")), "Relevancy and Retrieval on one device must run fused");
        long uploaded = onDevice.report().perStep().get(Step.PREPARE).transfers().bytesToDevice();
        // every appended row of keys, values and the touched page summaries, once: not the whole capacity again
        long rows = LENGTH * SHAPE.kvWidth() * 4L * 2;
        assertTrue(uploaded >= rows && uploaded < 3 * rows, "bytes refreshed on appends: " + uploaded);
    }

    @Test
    void quest_split_over_two_devices_should_run_step_by_step_and_equal_the_cpu() {
        List<float[]> cpu = run(PipelineTesting.engine());
        SeparateCopyDevice device = closedAfter(new SeparateCopyDevice("copy-gpu", new SimdBackend()));
        Engine split = engineWith(device, Step.RELEVANCY);
        List<float[]> got = run(split);
        for (int i = 0; i < cpu.size(); i++) {
            assertArrayEquals(cpu.get(i), got.get(i), "decode step " + i);
        }
        List<String> ops = split.report().records().stream().map(StepRecord::op).toList();
        assertTrue(ops.contains("questBound") && ops.contains("topK") && !ops.contains("questBoundTopK"), ops.toString());
    }

    @Test
    void a_device_that_ignores_refresh_should_give_answers_that_differ_from_the_cpu() {
        List<float[]> cpu = run(PipelineTesting.engine());
        SeparateCopyDevice stale = closedAfter(new SeparateCopyDevice("stale-gpu", new SimdBackend(), true));
        List<float[]> got = run(engineWith(stale, Step.RELEVANCY, Step.RETRIEVAL, Step.APPLY));
        boolean anyDiffers = false;
        for (int i = 0; i < cpu.size(); i++) {
            anyDiffers |= !Arrays.equals(cpu.get(i), got.get(i));
        }
        assertTrue(anyDiffers, "a stale device copy went unnoticed: the test cannot catch a missing refresh");
    }

    @Test
    void dsa_on_a_separate_copy_device_should_equal_the_cpu_and_run_the_indexer_fused() {
        List<float[]> cpu = runDsa(PipelineTesting.engine());
        SeparateCopyDevice device = closedAfter(new SeparateCopyDevice("copy-gpu", new SimdBackend()));
        Engine onDevice = engineWith(device, Step.RELEVANCY, Step.RETRIEVAL, Step.APPLY);
        List<float[]> copied = runDsa(onDevice);
        for (int i = 0; i < cpu.size(); i++) {
            assertArrayEquals(cpu.get(i), copied.get(i), "decode step " + i + " differs on the device");
        }
        assertTrue(onDevice.report().records().stream().anyMatch(r -> r.op().equals("indexerTopK")
                && r.device().equals("copy-gpu")), "the indexer and its top-k on one device must run fused");
        SeparateCopyDevice stale = closedAfter(new SeparateCopyDevice("stale-gpu", new SimdBackend(), true));
        List<float[]> staleOut = runDsa(engineWith(stale, Step.RELEVANCY, Step.RETRIEVAL, Step.APPLY));
        boolean anyDiffers = false;
        for (int i = 0; i < cpu.size(); i++) {
            anyDiffers |= !Arrays.equals(cpu.get(i), staleOut.get(i));
        }
        assertTrue(anyDiffers, "stale indexer keys went unnoticed");
    }

    private static List<float[]> runDsa(Engine engine) {
        List<float[]> outputs = new java.util.ArrayList<>();
        try (Arena arena = Arena.ofShared()) {
            KvFixture kv = KvFixture.of(arena, DsaPipelineTest.SHAPE, DsaPipelineTest.LENGTH, 23);
            java.util.SplittableRandom random = new java.util.SplittableRandom(23);
            int qWidth = DsaPipelineTest.SHAPE.queryHeads() * DsaPipelineTest.SHAPE.headDim();
            var weights = new DsaPipeline.IndexerWeights(
                    PipelineTesting.uniform(arena, random, (long) DsaPipelineTest.HEADS * DsaPipelineTest.DIM, qWidth),
                    PipelineTesting.uniform(arena, random, DsaPipelineTest.DIM, DsaPipelineTest.SHAPE.kvWidth()),
                    PipelineTesting.uniform(arena, random, 1, DsaPipelineTest.HEADS));
            DsaPipeline dsa = DsaPipelineTest.pipeline(arena, engine, weights, DsaPipelineTest.SETTINGS);
            long length = DsaPipelineTest.LENGTH;
            long at = 0;
            for (long size : new long[] {30, 7, 200, 1, 400}) {
                long to = Math.min(length, at + size);
                if (to > at) {
                    dsa.prepare(new KvRows(kv.keys().rowSlice(at, to), kv.values().rowSlice(at, to)));
                }
                at = to;
                outputs.add(dsa.step(kv.query()).toFloatArray());
            }
            dsa.kv().close();
            dsa.indexerKeys().close();
        }
        return outputs;
    }

    @Test
    void bm25_on_a_device_should_run_scoring_and_top_k_fused_and_equal_the_cpu() {
        SeparateCopyDevice device = closedAfter(new SeparateCopyDevice("copy-gpu", new SimdBackend()));
        Engine onDevice = engineWith(device, Step.RELEVANCY, Step.RETRIEVAL, Step.APPLY);
        List<dev.mempipe.core.pipeline.Prompt> cpu = runBm25(PipelineTesting.engine());
        List<dev.mempipe.core.pipeline.Prompt> fused = runBm25(onDevice);
        assertEquals(cpu, fused);
        assertTrue(onDevice.report().records().stream().anyMatch(r -> r.op().equals("bm25TopK")
                && r.device().equals("copy-gpu")), "BM25 scoring and its top-k on one device must run fused");
    }

    private static List<dev.mempipe.core.pipeline.Prompt> runBm25(Engine engine) {
        List<String> documents = new java.util.ArrayList<>();
        java.util.SplittableRandom random = new java.util.SplittableRandom(5);
        String[] words = {"page", "token", "cache", "query", "memory", "fpga", "gpu", "score", "index", "top"};
        for (int d = 0; d < 150; d++) {
            StringBuilder text = new StringBuilder();
            for (int w = 0; w < 5 + random.nextInt(20); w++) {
                text.append(words[random.nextInt(words.length)]).append(random.nextInt(30)).append(' ');
            }
            documents.add(text.toString());
        }
        List<dev.mempipe.core.pipeline.Prompt> prompts = new java.util.ArrayList<>();
        try (Arena arena = Arena.ofShared()) {
            dev.mempipe.core.memory.Bm25Memory memory = new dev.mempipe.core.memory.Bm25Memory(arena, engine,
                    400, 20_000);
            Bm25Pipeline bm25 = new Bm25Pipeline(engine, memory, new Bm25Pipeline.Settings(
                    dev.mempipe.spi.Bm25Params.DEFAULT, 7, 200), arena);
            bm25.prepare(documents.subList(0, 60));
            prompts.add(bm25.step("cache3 memory7 gpu1"));
            bm25.prepare(documents.subList(60, documents.size())); // a rebuilt index is pinned again
            prompts.add(bm25.step("cache3 memory7 gpu1"));
            prompts.add(bm25.step("nothing-matches"));
            memory.close();
        }
        return prompts;
    }

    /** Appends the fixture's rows in chunks, decoding one step after each: the outputs, in order. */
    private static List<float[]> run(Engine engine) {
        List<float[]> outputs = new java.util.ArrayList<>();
        try (Arena arena = Arena.ofShared()) {
            KvFixture kv = KvFixture.of(arena, SHAPE, LENGTH, 17);
            Backend host = engine.cpu().backend();
            PagedKvMemory memory = new PagedKvMemory(arena, engine, SHAPE.kvHeads(), SHAPE.headDim(), LENGTH,
                    ElementType.F32, 16);
            QuestPipeline quest = new QuestPipeline(engine, memory, SHAPE, SETTINGS, arena);
            long at = 0;
            for (long size : new long[] {40, 9, 100, 1, 250, 300}) {
                long to = Math.min(LENGTH, at + size);
                quest.prepare(new KvRows(kv.keys().rowSlice(at, to), kv.values().rowSlice(at, to)));
                at = to;
                Tensor out = quest.step(kv.query());
                outputs.add(out.toFloatArray());
            }
            memory.close();
        }
        return outputs;
    }

    private static Engine engineWith(Backend deviceBackend, Step... steps) {
        return PipelineTesting.engineWith(deviceBackend, steps);
    }
}
