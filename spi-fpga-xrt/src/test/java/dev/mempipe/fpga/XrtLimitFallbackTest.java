package dev.mempipe.fpga;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.pipeline.Prompt;
import dev.mempipe.core.profile.StepRecord;
import dev.mempipe.ops.SimdBackend;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.LimitExceededException;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.List;
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
        int[][] documents = Bm25OnDevice.documents(new SplittableRandom(20261208L), VOCABULARY);
        int[] shortQuery = {3, 5, 8, 13};
        int[] longQuery = IntStream.range(0, XrtBackend.MAX_QUERY_TERMS + 44).map(i -> (7 * i) % VOCABULARY).toArray();
        assertEquals(XrtBackend.MAX_QUERY_TERMS + 44, Arrays.stream(longQuery).distinct().count(), "distinct terms");
        Backend simd = new SimdBackend();
        try (Arena arena = Arena.ofShared(); Backend fpga = Csim.backend()) {
            List<Prompt> want = Bm25OnDevice.run(Bm25OnDevice.cpuOnly(simd), arena, documents, shortQuery, longQuery);
            Engine engine = Bm25OnDevice.relevancyAndRetrievalOn(simd, fpga);
            List<Prompt> got = Bm25OnDevice.run(engine, arena, documents, shortQuery, longQuery);

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
}
