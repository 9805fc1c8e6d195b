package dev.mempipe.hazelcast;

import dev.langchain4j.data.document.Metadata;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.store.embedding.EmbeddingMatch;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.filter.Filter;
import dev.mempipe.langchain4j.MempipeEmbeddingStore;
import dev.mempipe.spi.ElementType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static dev.langchain4j.store.embedding.filter.MetadataFilterBuilder.metadataKey;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The cluster-backed store against the same store on one node, on random data, filters included. */
class ClusterEmbeddingStoreTest {

    @ParameterizedTest
    @EnumSource(value = ElementType.class, names = {"F32", "BF16"})
    void should_answer_as_the_single_node_store_with_filters_run_on_the_members(ElementType storage) {
        SplittableRandom random = TestData.random("store" + storage);
        int d = 24;
        int n = 400 * TestData.SCALE;
        List<String> ids = new ArrayList<>();
        List<Embedding> embeddings = new ArrayList<>();
        List<TextSegment> segments = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ids.add("id-" + i);
            embeddings.add(new Embedding(TestData.gaussian(random, 1, d)[0]));
            segments.add(TextSegment.from("text " + i, Metadata.from(Map.of("bucket", random.nextInt(5),
                    "name", "n" + random.nextInt(20)))));
        }
        MempipeEmbeddingStore single = MempipeEmbeddingStore.builder().storage(storage).build();
        ClusterEmbeddingStore backing = ClusterEmbeddingStore.builder(SharedCluster.member(1),
                SharedCluster.uniqueName("store-test")).storage(storage).build();
        MempipeEmbeddingStore backed = MempipeEmbeddingStore.builder().backedBy(backing).build();
        try {
            single.addAll(ids, embeddings, segments);
            backed.addAll(ids.subList(0, n / 2), embeddings.subList(0, n / 2), segments.subList(0, n / 2));
            backed.addAll(ids.subList(n / 2, n), embeddings.subList(n / 2, n), segments.subList(n / 2, n));
            assertEquals(n, backed.size());
            List<Filter> filters = new ArrayList<>();
            filters.add(null);
            filters.add(metadataKey("bucket").isEqualTo(2));
            filters.add(metadataKey("bucket").isIn(List.of(1, 3)).and(metadataKey("name").isNotEqualTo("n4")));
            filters.add(metadataKey("name").containsString("1"));
            float tau = 4f * d * 0x1p-24f;
            for (int q = 0; q < 20; q++) {
                EmbeddingSearchRequest request = EmbeddingSearchRequest.builder()
                        .queryEmbedding(new Embedding(TestData.gaussian(random, 1, d)[0]))
                        .maxResults(1 + random.nextInt(30)).minScore(q % 3 == 0 ? 0.55 : 0.0)
                        .filter(filters.get(q % filters.size())).build();
                List<EmbeddingMatch<TextSegment>> want = single.search(request).matches();
                List<EmbeddingMatch<TextSegment>> got = backed.search(request).matches();
                String context = "query " + q + ", " + storage + ", " + TestData.reproduce(getClass());
                assertEquals(want.size(), got.size(), context);
                for (int i = 0; i < want.size(); i++) {
                    assertEquals(want.get(i).embeddingId(), got.get(i).embeddingId(), context + " rank " + i);
                    assertEquals(want.get(i).score(), got.get(i).score(), tau, context + " rank " + i);
                    assertArrayEquals(want.get(i).embedding().vector(), got.get(i).embedding().vector(), context);
                    assertEquals(want.get(i).embedded(), got.get(i).embedded(), context);
                }
            }
            // removal by filter runs on the members too
            backed.removeAll(metadataKey("bucket").isEqualTo(2));
            single.removeAll(metadataKey("bucket").isEqualTo(2));
            assertEquals(single.size(), backed.size());
        } finally {
            backing.destroy();
            backed.close();
            single.close();
        }
    }

    @Test
    void should_reject_what_the_single_node_store_rejects_and_what_cannot_run_on_members() throws Exception {
        ClusterEmbeddingStore backing = ClusterEmbeddingStore.builder(SharedCluster.member(0),
                SharedCluster.uniqueName("store-errors")).build();
        MempipeEmbeddingStore backed = MempipeEmbeddingStore.builder().backedBy(backing).build();
        // a second store on the same backing sees the entries and the dimension the first one fixed
        MempipeEmbeddingStore other = MempipeEmbeddingStore.builder().backedBy(ClusterEmbeddingStore.builder(
                SharedCluster.member(2), backing.name()).build()).build();
        try {
            backed.add("a", new Embedding(new float[] {1, 0, 0}));
            IllegalArgumentException taken = assertThrows(IllegalArgumentException.class,
                    () -> other.addAll(List.of("b", "a"), List.of(new Embedding(new float[] {0, 1, 0}),
                            new Embedding(new float[] {0, 0, 1})), null));
            assertEquals("ids[1] 'a' is already in the store; remove it first to replace it", taken.getMessage());
            assertEquals(1, other.size(), "a failed add adds nothing");
            IllegalArgumentException width = assertThrows(IllegalArgumentException.class,
                    () -> other.add("c", new Embedding(new float[] {1, 2})));
            assertTrue(width.getMessage().contains("has dimension 2 but this store holds 3-dimensional"),
                    width.getMessage());
            IllegalArgumentException lambda = assertThrows(IllegalArgumentException.class,
                    () -> backed.search(EmbeddingSearchRequest.builder().queryEmbedding(new Embedding(
                            new float[] {1, 0, 0})).filter(metadata -> true).build()));
            assertTrue(lambda.getMessage().contains("cannot run on the cluster's members"), lambda.getMessage());
            assertThrows(UnsupportedOperationException.class, () -> backed.save(Path.of("unused.store")));
            IllegalArgumentException both = assertThrows(IllegalArgumentException.class,
                    () -> MempipeEmbeddingStore.builder().backedBy(backing).storage(ElementType.BF16).build());
            assertTrue(both.getMessage().contains("do not set storage, approximate or engine as well"),
                    both.getMessage());
        } finally {
            backing.destroy();
            backed.close();
            other.close();
        }
    }
}
