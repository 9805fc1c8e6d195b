package dev.mempipe.hazelcast;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.core.HazelcastInstance;
import dev.mempipe.core.memory.EmbeddingMemory;
import dev.mempipe.core.memory.HnswSettings;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The distributed embedding memory on three members against one {@link EmbeddingMemory} holding the same rows. */
class DistributedEmbeddingMemoryTest {
    private static final AtomicInteger NAMES = new AtomicInteger();

    private static DistributedEmbeddingMemory memory(HazelcastInstance hz, int d, ElementType storage) {
        return DistributedEmbeddingMemory.builder(hz, "emb" + NAMES.incrementAndGet()).dimension(d).storage(storage)
                .build();
    }

    @ParameterizedTest
    @EnumSource(value = ElementType.class, names = {"F32", "BF16", "I8"})
    void should_equal_one_node_to_the_bit_with_exact_ties_across_members(ElementType storage) {
        SplittableRandom random = TestData.random("ties" + storage);
        int d = 9;
        int n = 997 * TestData.SCALE;
        float[][] rows = TestData.twoHotRows(random, n, d, 40);
        DistributedEmbeddingMemory memory = memory(SharedCluster.member(1), d, storage);
        assertEquals(0, memory.append(rows));
        try (Arena arena = Arena.ofShared()) {
            EmbeddingMemory single = new EmbeddingMemory(arena, TestData.ENGINE, d, n, storage,
                    HnswSettings.DEFAULT);
            single.append(Tensor.of(arena, TestData.flatten(rows, d), n, d));
            for (int q = 0; q < 30; q++) {
                float[] query = TestData.twoHot(random, d);
                query[random.nextInt(d)] += 1; // never all zero
                int k = new int[] {1, 3, 16, 17, 64, 2000}[q % 6];
                ClusterHits want = TestData.toCluster(single.search(Tensor.vector(arena, query), k));
                ClusterHits got = memory.search(query, k);
                assertEquals(want, got, "query " + q + ", k " + k + ", " + TestData.reproduce(getClass()));
            }
        }
        memory.destroy();
    }

    @Test
    void should_equal_one_node_index_for_index_on_gaussian_rows() {
        SplittableRandom random = TestData.random("gaussian");
        int d = 33;
        int nearTies = 0;
        for (int n : new int[] {1, 7, 17, 1500 * TestData.SCALE}) {
            float[][] rows = TestData.gaussian(random, n, d);
            DistributedEmbeddingMemory memory = memory(SharedCluster.member(0), d, ElementType.F32);
            memory.append(rows);
            try (Arena arena = Arena.ofShared()) {
                EmbeddingMemory single = new EmbeddingMemory(arena, TestData.ENGINE, d, n);
                single.append(Tensor.of(arena, TestData.flatten(rows, d), n, d));
                for (int q = 0; q < 20; q++) {
                    float[] query = TestData.gaussian(random, 1, d)[0];
                    int k = 1 + random.nextInt(40);
                    ClusterHits want = TestData.toCluster(single.search(Tensor.vector(arena, query), k));
                    // f32 dot products whose lanes the JIT may sum in another order: the ops' own bound
                    float tau = 4f * d * 0x1p-24f;
                    nearTies += TestData.assertSameWithin(want, memory.search(query, k), tau,
                            "n " + n + ", query " + q + ", " + TestData.reproduce(getClass()));
                }
            }
            memory.destroy();
        }
        assertTrue(nearTies <= 2, nearTies + " ranks differed by a near-tie; expected (almost) none");
    }

    @Test
    void should_see_every_append_that_returned_before_the_search() {
        SplittableRandom random = TestData.random("appends");
        int d = 8;
        DistributedEmbeddingMemory memory = memory(SharedCluster.member(2), d, ElementType.F32);
        assertEquals(0, memory.search(new float[] {1, 0, 0, 0, 0, 0, 0, 0}, 5).size());
        long expected = 0;
        for (int batch = 0; batch < 6; batch++) {
            float[][] rows = TestData.gaussian(random, 1 + random.nextInt(30), d);
            assertEquals(expected, memory.append(rows));
            expected += rows.length;
            // the newest row, queried by itself, must be found (cosine 1) right after the append returned
            ClusterHits hits = memory.search(rows[rows.length - 1], (int) expected + 5);
            assertEquals(expected, hits.size());
            assertTrue(hits.score(0) > 0.9999f, "batch " + batch + ": " + hits);
        }
        assertEquals(expected, memory.size());
        memory.destroy();
    }

    @Test
    void should_see_an_append_made_through_another_member_right_after_it_returned() {
        SplittableRandom random = TestData.random("other-handle");
        int d = 12;
        DistributedEmbeddingMemory reader = memory(SharedCluster.member(0), d, ElementType.F32);
        DistributedEmbeddingMemory writer = DistributedEmbeddingMemory.builder(SharedCluster.member(2), reader.name())
                .dimension(d).build();
        writer.append(TestData.gaussian(random, 50, d));
        for (int round = 0; round < 5; round++) {
            assertEquals(50 + round, reader.search(new float[d], 1000).size()); // the reader's guess is now current
            float[] fresh = TestData.gaussian(random, 1, d)[0];
            long id = writer.append(new float[][] {fresh});
            ClusterHits hits = reader.search(fresh, 1);
            assertEquals(id, hits.id(0), "round " + round + ": the reader missed the append; " + hits);
        }
        reader.destroy();
    }

    @Test
    void should_stay_exact_while_appends_and_searches_run_concurrently_on_several_members() throws Exception {
        int d = 16;
        DistributedEmbeddingMemory first = memory(SharedCluster.member(0), d, ElementType.F32);
        List<DistributedEmbeddingMemory> handles = List.of(first,
                DistributedEmbeddingMemory.builder(SharedCluster.member(1), first.name()).dimension(d).build(),
                DistributedEmbeddingMemory.builder(SharedCluster.member(2), first.name()).dimension(d).build());
        float[][][] appended = new float[4][][];
        ExecutorService threads = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> work = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                work.add(threads.submit(() -> {
                    SplittableRandom random = TestData.random("concurrent" + thread);
                    DistributedEmbeddingMemory handle = handles.get(thread % 3);
                    List<float[]> mine = new ArrayList<>();
                    for (int batch = 0; batch < 8; batch++) {
                        float[][] rows = TestData.gaussian(random, 1 + random.nextInt(20), d);
                        long id = handle.append(rows);
                        mine.addAll(List.of(rows));
                        // this thread's append returned: its last row must be found, whatever else runs meanwhile
                        ClusterHits hits = handle.search(rows[rows.length - 1], 3);
                        assertEquals(id + rows.length - 1, hits.id(0), "thread " + thread + " batch " + batch);
                        for (int i = 1; i < hits.size(); i++) {
                            assertTrue(HitMerge.before(hits.score(i - 1), hits.id(i - 1), hits.score(i), hits.id(i)),
                                    "out of order: " + hits);
                        }
                    }
                    appended[thread] = mine.toArray(new float[0][]);
                    return null;
                }));
            }
            for (Future<?> f : work) {
                f.get();
            }
        } finally {
            threads.shutdownNow();
        }
        long total = 0;
        for (float[][] rows : appended) {
            total += rows.length;
        }
        assertEquals(total, first.size());
        assertEquals(total, first.search(new float[d], (int) total + 1).size(), "every row once, none twice");
        first.destroy();
    }

    @Test
    void should_answer_a_client_as_it_answers_a_member() {
        SplittableRandom random = TestData.random("client");
        int d = 16;
        float[][] rows = TestData.gaussian(random, 300, d);
        DistributedEmbeddingMemory onMember = memory(SharedCluster.member(0), d, ElementType.F32);
        onMember.append(rows);
        HazelcastInstance client = HazelcastClient.newHazelcastClient(SharedCluster.clientConfig());
        try {
            DistributedEmbeddingMemory viaClient = DistributedEmbeddingMemory.builder(client, onMember.name())
                    .dimension(d).build();
            assertEquals(300, viaClient.size());
            float[] query = rows[17];
            assertEquals(onMember.search(query, 10), viaClient.search(query, 10));
            assertEquals(300, viaClient.append(new float[][] {rows[0]}));
        } finally {
            client.shutdown();
        }
        assertEquals(301, onMember.size());
        onMember.destroy();
    }

    @Test
    void should_reject_bad_input_naming_the_argument() {
        DistributedEmbeddingMemory memory = memory(SharedCluster.member(0), 4, ElementType.F32);
        IllegalArgumentException wrongWidth = assertThrows(IllegalArgumentException.class,
                () -> memory.append(new float[][] {{1, 2, 3, 4}, {1, 2, 3}}));
        assertTrue(wrongWidth.getMessage().contains("vectors[1] has 3 elements"), wrongWidth.getMessage());
        IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
                () -> memory.append(new float[][] {{1, Float.NaN, 3, 4}}));
        assertTrue(nan.getMessage().contains("vectors[0] holds NaN at element 1"), nan.getMessage());
        assertEquals(0, memory.size(), "a rejected append stores nothing");
        IllegalArgumentException k = assertThrows(IllegalArgumentException.class,
                () -> memory.search(new float[] {1, 0, 0, 0}, 0));
        assertTrue(k.getMessage().contains("k must be >= 1, got 0"), k.getMessage());
        IllegalArgumentException reopened = assertThrows(IllegalArgumentException.class,
                () -> DistributedEmbeddingMemory.builder(SharedCluster.member(1), memory.name()).dimension(5).build());
        assertTrue(reopened.getMessage().contains("exists with shape"), reopened.getMessage());
        IllegalArgumentException backups = assertThrows(IllegalArgumentException.class,
                () -> DistributedEmbeddingMemory.builder(SharedCluster.member(2), memory.name()).dimension(4)
                        .backupCount(2).build());
        assertTrue(backups.getMessage().contains("is configured with 1 synchronous and 0 asynchronous backups, not 2"
                + " synchronous"), backups.getMessage());
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                () -> DistributedEmbeddingMemory.builder(SharedCluster.member(2), "x").dimension(4).backupCount(-1)
                        .build());
        assertTrue(negative.getMessage().contains("backupCount must be in [0, 6], got -1"), negative.getMessage());
        memory.destroy();
    }
}
