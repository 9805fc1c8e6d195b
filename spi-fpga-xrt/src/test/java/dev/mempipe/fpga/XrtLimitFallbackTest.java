package dev.mempipe.fpga;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.Bm25Memory;
import dev.mempipe.core.pipeline.Bm25Pipeline;
import dev.mempipe.core.pipeline.Prompt;
import dev.mempipe.core.placement.Device;
import dev.mempipe.core.placement.DeviceModel;
import dev.mempipe.core.placement.Links;
import dev.mempipe.core.placement.Planner;
import dev.mempipe.core.placement.StepShape;
import dev.mempipe.core.placement.TransferModel;
import dev.mempipe.core.placement.WorkloadShape;
import dev.mempipe.core.profile.EnergyMeter;
import dev.mempipe.core.profile.StepRecord;
import dev.mempipe.ops.SimdBackend;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Bm25Params;
import dev.mempipe.spi.LimitExceededException;
import dev.mempipe.spi.Step;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The U55C kernel's BM25 term table holds {@link XrtBackend#MAX_QUERY_TERMS} distinct terms a query, which the
 * pipelines cannot tell the planner ahead of a call: a longer query must reach the device, be rejected there before
 * anything is written ({@code LimitExceededException}) and run on the CPU through the engine, with the CPU's answer,
 * while a short query keeps running on the device. On the csim device (skips with the build's reason without it).
 */
class XrtLimitFallbackTest {
    private static final int VOCABULARY = 400;

    @Test
    void a_bm25_query_past_the_devices_term_table_should_run_on_the_cpu_with_the_cpus_answer() {
        int[][] documents = documents(new SplittableRandom(20261208L));
        int[] shortQuery = {3, 5, 8, 13};
        int[] longQuery = IntStream.range(0, XrtBackend.MAX_QUERY_TERMS + 44).map(i -> (7 * i) % VOCABULARY).toArray();
        assertEquals(XrtBackend.MAX_QUERY_TERMS + 44, Arrays.stream(longQuery).distinct().count(), "distinct terms");
        Backend simd = new SimdBackend();
        try (Arena arena = Arena.ofShared(); Backend fpga = Csim.backend()) {
            Device cpu = new Device(simd, DeviceModel.declared(simd.name(), 1e11, 2e10, 1e-6));
            Engine cpuOnly = Engine.builder().cpu(cpu).energyMeter(EnergyMeter.unavailable("not measured")).build();
            List<Prompt> want = run(cpuOnly, arena, documents, shortQuery, longQuery);

            Device device = new Device(fpga, DeviceModel.declared(fpga.name(), 1e12, 1e11, 1e-6));
            WorkloadShape shape = new WorkloadShape(Arrays.stream(Step.values()).map(s -> StepShape.of(s, 0, 0))
                    .toList());
            Links links = Links.builder().link(cpu.name(), device.name(), TransferModel.of(1e-6, 1e10)).build();
            Map<Step, String> assignment = new EnumMap<>(Step.class);
            assignment.put(Step.RELEVANCY, device.name());
            assignment.put(Step.RETRIEVAL, device.name());
            Engine engine = Engine.builder().cpu(cpu).device(device)
                    .plan(new Planner(cpu, List.of(device), links).evaluate(shape, assignment))
                    .energyMeter(EnergyMeter.unavailable("not measured")).build();
            List<Prompt> got = run(engine, arena, documents, shortQuery, longQuery);

            assertEquals(want.get(0).sources(), got.get(0).sources(), "the short query's sources");
            assertEquals(want.get(1).sources(), got.get(1).sources(), "the long query's sources");
            List<StepRecord> searches = engine.report().records().stream()
                    .filter(r -> r.op().equals("bm25TopK")).toList();
            assertEquals(2, searches.size(), engine.report().records().toString());
            StepRecord shortRun = searches.get(0);
            assertEquals(fpga.name(), shortRun.device(), shortRun.toString());
            assertNull(shortRun.fallback(), shortRun.toString());
            StepRecord longRun = searches.get(1);
            assertEquals(simd.name(), longRun.device(), longRun.toString());
            String reason = longRun.fallback().reason();
            assertTrue(reason.contains(LimitExceededException.class.getName())
                    && reason.contains("maxQueryTerms = " + XrtBackend.MAX_QUERY_TERMS), reason);
            assertTrue(engine.lostDevices().isEmpty(), "a limit does not lose the device");
            assertFalse(want.get(1).sources().isEmpty(), "the long query finds documents");
        }
    }

    private static List<Prompt> run(Engine engine, Arena arena, int[][] documents, int[]... queries) {
        try (Bm25Memory memory = new Bm25Memory(arena, engine, documents.length, 40 * documents.length)) {
            Bm25Pipeline pipeline = new Bm25Pipeline(engine, memory, new Bm25Pipeline.Settings(Bm25Params.DEFAULT, 8,
                    4096), arena);
            pipeline.prepareTokens(documents);
            return Arrays.stream(queries).map(pipeline::step).toList();
        }
    }

    private static int[][] documents(SplittableRandom r) {
        int[][] docs = new int[120][];
        for (int d = 0; d < docs.length; d++) {
            docs[d] = new int[1 + r.nextInt(30)];
            for (int i = 0; i < docs[d].length; i++) {
                docs[d][i] = r.nextInt(VOCABULARY);
            }
        }
        return docs;
    }
}
