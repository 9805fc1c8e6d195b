package dev.mempipe.hazelcast;

import dev.mempipe.core.memory.Bm25Memory;
import dev.mempipe.core.memory.EmbeddingMemory;
import dev.mempipe.spi.Bm25Params;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Three embedded members on loopback: a member killed with {@code terminate()} right after writes returned loses
 * nothing (the backups hold them), queries retried on the survivors answer as one node does, and a member joining
 * takes over partitions without losing or duplicating a row, also for queries running while it joins.
 */
class FailoverTest {
    private static final int D = 8;

    /** One node's answers to a fixed set of queries: what the cluster must answer before and after failures. */
    private record Expected(List<float[]> vectorQueries, List<ClusterHits> vectorAnswers, List<int[]> termQueries,
                            List<ClusterHits> termAnswers) {
    }

    @Test
    void should_answer_as_before_after_a_member_is_killed_and_after_one_joins() throws Exception {
        SplittableRandom random = TestData.random("failover");
        float[][] rows = TestData.twoHotRows(random, 1500 * TestData.SCALE, D, 60);
        List<int[]> docs = DistributedBm25MemoryTest.corpus(random, 1000 * TestData.SCALE, 200);
        Expected expected = oneNode(random, rows, docs);
        try (LoopbackCluster cluster = new LoopbackCluster(3)) {
            DistributedEmbeddingMemory vectors = DistributedEmbeddingMemory.builder(cluster.member(0), "vectors")
                    .dimension(D).build();
            DistributedBm25Memory documents = DistributedBm25Memory.builder(cluster.member(0), "documents").build();
            int half = rows.length / 2;
            vectors.append(java.util.Arrays.copyOfRange(rows, 0, half));
            documents.append(docs.subList(0, docs.size() / 2));
            assertEquals(expected.vectorAnswers().getFirst().size(), vectors.search(expected.vectorQueries()
                    .getFirst(), 64).size()); // member copies exist before the kill
            // the second halves are acknowledged, then a member dies at once: its backups must hold them
            vectors.append(java.util.Arrays.copyOfRange(rows, half, rows.length));
            documents.append(docs.subList(docs.size() / 2, docs.size()));
            cluster.terminate(2);

            assertAnswers(expected, vectors, documents, "after terminate()");
            assertEquals(rows.length, vectors.size());
            assertEquals(docs.size(), documents.size());

            // a member joins while queries run: each must answer as one node does, or be retried until it can
            AtomicBoolean joined = new AtomicBoolean();
            AtomicInteger queriesDuringJoin = new AtomicInteger();
            CompletableFuture<Void> queries = CompletableFuture.runAsync(() -> {
                while (!joined.get()) {
                    assertAnswers(expected, vectors, documents, "while a member joins");
                    queriesDuringJoin.incrementAndGet();
                }
            });
            cluster.start();
            joined.set(true);
            queries.get();
            assertTrue(queriesDuringJoin.get() > 0, "no query ran during the join");
            assertAnswers(expected, vectors, documents, "after a member joined");
            assertEquals(rows.length, vectors.size());
            assertEquals(docs.size(), documents.size());
            assertTrue(Partitions.ownedLocally(cluster.member(2)).length > 0, "the new member owns partitions");
        }
    }

    @Test
    void should_lose_rows_with_no_backups_which_shows_the_test_above_can_fail() {
        SplittableRandom random = TestData.random("no-backups");
        float[][] rows = TestData.twoHotRows(random, 600, D, 30);
        try (LoopbackCluster cluster = new LoopbackCluster(3)) {
            DistributedEmbeddingMemory vectors = DistributedEmbeddingMemory.builder(cluster.member(0), "unsafe")
                    .dimension(D).backupCount(0).build();
            vectors.append(rows);
            cluster.terminate(2);
            cluster.awaitSafe();
            long left = vectors.size();
            assertTrue(left < rows.length, "with no backups a killed member's rows are gone, yet " + left + " of "
                    + rows.length + " remain");
            assertEquals(Math.min(left, 2000), vectors.search(rows[0], 2000).size());
        }
    }

    private static Expected oneNode(SplittableRandom random, float[][] rows, List<int[]> docs) {
        List<float[]> vectorQueries = new ArrayList<>();
        List<ClusterHits> vectorAnswers = new ArrayList<>();
        List<int[]> termQueries = new ArrayList<>();
        List<ClusterHits> termAnswers = new ArrayList<>();
        try (Arena arena = Arena.ofShared()) {
            EmbeddingMemory vectors = new EmbeddingMemory(arena, TestData.ENGINE, D, rows.length);
            vectors.append(Tensor.of(arena, TestData.flatten(rows, D), rows.length, D));
            Bm25Memory documents = new Bm25Memory(arena, TestData.ENGINE, docs.size(), 41 * docs.size());
            docs.forEach(documents::append);
            for (int q = 0; q < 5; q++) {
                float[] query = TestData.twoHot(random, D);
                query[q] += 1;
                vectorQueries.add(query);
                vectorAnswers.add(TestData.toCluster(vectors.search(Tensor.vector(arena, query), 64)));
                int[] terms = {random.nextInt(200), random.nextInt(200), random.nextInt(50)};
                termQueries.add(terms);
                termAnswers.add(TestData.toCluster(documents.search(terms, 32, Bm25Params.DEFAULT)));
            }
        }
        return new Expected(vectorQueries, vectorAnswers, termQueries, termAnswers);
    }

    private static void assertAnswers(Expected expected, DistributedEmbeddingMemory vectors,
                                      DistributedBm25Memory documents, String when) {
        for (int q = 0; q < expected.vectorQueries().size(); q++) {
            assertEquals(expected.vectorAnswers().get(q), vectors.search(expected.vectorQueries().get(q), 64),
                    when + ", vector query " + q + ", " + TestData.reproduce(FailoverTest.class));
            assertEquals(expected.termAnswers().get(q), documents.search(expected.termQueries().get(q), 32),
                    when + ", term query " + q + ", " + TestData.reproduce(FailoverTest.class));
        }
    }
}
