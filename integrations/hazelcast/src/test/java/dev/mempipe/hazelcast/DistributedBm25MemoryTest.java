package dev.mempipe.hazelcast;

import dev.mempipe.core.memory.Bm25Memory;
import dev.mempipe.spi.Bm25Idf;
import dev.mempipe.spi.Bm25Params;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The distributed BM25 memory on three members against one {@link Bm25Memory} holding the same documents. */
class DistributedBm25MemoryTest {

    /** Documents of 0 to 40 terms from a skewed vocabulary (common terms in most documents, rare ones in few). */
    static List<int[]> corpus(SplittableRandom random, int n, int vocabulary) {
        List<int[]> docs = new ArrayList<>(n);
        for (int d = 0; d < n; d++) {
            int[] terms = new int[random.nextInt(41)];
            for (int i = 0; i < terms.length; i++) {
                double u = random.nextDouble();
                terms[i] = (int) (vocabulary * u * u * u); // skewed towards low ids
            }
            docs.add(terms);
        }
        return docs;
    }

    @Test
    void should_score_with_the_cluster_statistics_to_the_bit() {
        SplittableRandom random = TestData.random("bm25");
        int vocabulary = 300;
        List<int[]> docs = corpus(random, 1200 * TestData.SCALE, vocabulary);
        DistributedBm25Memory memory = DistributedBm25Memory.builder(SharedCluster.member(0), "bm25-equal").build();
        // two appends, from two members: ids continue across them
        assertEquals(0, memory.append(docs.subList(0, 500)));
        assertEquals(500, memory.append(docs.subList(500, docs.size())));
        Bm25Params[] params = {Bm25Params.DEFAULT, Bm25Params.FPGA_KERNEL, new Bm25Params(0.9f, 0.4f, Bm25Idf.CLASSIC)};
        try (Arena arena = Arena.ofShared()) {
            Bm25Memory single = new Bm25Memory(arena, TestData.ENGINE, docs.size(), 41 * docs.size());
            docs.forEach(single::append);
            for (int q = 0; q < 40; q++) {
                int[] query = new int[1 + random.nextInt(5)];
                for (int i = 0; i < query.length; i++) {
                    query[i] = random.nextInt(vocabulary + 20); // some terms no document holds
                }
                if (q % 5 == 0) {
                    query[0] = query[query.length - 1]; // a repeated term counts once
                }
                int k = new int[] {1, 7, 64, 5000}[q % 4];
                Bm25Params p = params[q % params.length];
                ClusterHits want = TestData.toCluster(single.search(query, k, p));
                ClusterHits got = memory.search(query, k, p);
                assertEquals(want, got, "query " + q + ", k " + k + ", " + p + ", " + TestData.reproduce(getClass()));
            }
        }
        assertEquals(docs.size(), memory.size());
        memory.destroy();
    }

    @Test
    void should_reflect_new_documents_in_the_statistics_of_every_member() {
        DistributedBm25Memory memory = DistributedBm25Memory.builder(SharedCluster.member(1), "bm25-grow").build();
        assertEquals(0, memory.search(new int[] {1}, 3).size());
        memory.append(List.of(new int[] {1, 2}, new int[] {2, 3}, new int[] {4}));
        float before = memory.search(new int[] {1}, 1).score(0);
        // more documents holding term 1 lower its idf, on whichever member holds document 0
        memory.append(List.of(new int[] {1}, new int[] {1, 5}, new int[] {1, 6}));
        ClusterHits after = memory.search(new int[] {1}, 6);
        assertEquals(6, after.size());
        try (Arena arena = Arena.ofShared()) {
            Bm25Memory single = new Bm25Memory(arena, TestData.ENGINE, 6, 20);
            for (int[] doc : List.of(new int[] {1, 2}, new int[] {2, 3}, new int[] {4}, new int[] {1},
                    new int[] {1, 5}, new int[] {1, 6})) {
                single.append(doc);
            }
            assertEquals(TestData.toCluster(single.search(new int[] {1}, 6, Bm25Params.DEFAULT)), after);
        }
        assertTrue(after.score(after.size() - 1) == 0f, "documents without the term score 0: " + after);
        assertTrue(before > after.score(0), before + " then " + after);
        memory.destroy();
    }

    @Test
    void should_reject_negative_term_ids_naming_the_position() {
        DistributedBm25Memory memory = DistributedBm25Memory.builder(SharedCluster.member(2), "bm25-bad").build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> memory.append(List.of(new int[] {1}, new int[] {2, -3})));
        assertEquals("documents[1] holds term id -3 at position 1; term ids must be >= 0", e.getMessage());
        assertEquals(0, memory.size());
        IllegalArgumentException asEmbeddings = assertThrows(IllegalArgumentException.class,
                () -> DistributedEmbeddingMemory.builder(SharedCluster.member(0), "bm25-bad").dimension(4).build());
        assertTrue(asEmbeddings.getMessage().contains("exists with shape"), asEmbeddings.getMessage());
        memory.destroy();
    }
}
