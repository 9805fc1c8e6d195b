package dev.mempipe.langchain4j;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.store.embedding.EmbeddingMatch;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.mempipe.spi.ElementType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Compact storage keeps the ranking: recall@10 of the compact store's exact search against the F32 store's, on the
 * real model's embeddings of a sentence corpus and on synthetic clusters, and scores within the type's error.
 */
class CompactStorageTest {
    private static final int K = 10;
    private static List<Embedding> corpus;
    private static List<Embedding> corpusQueries;

    @BeforeAll
    static void embedCorpus() {
        corpus = SentenceCorpus.sentences(1, 600).stream().map(s -> MiniLm.MODEL.embed(s).content()).toList();
        corpusQueries = SentenceCorpus.sentences(2, 60).stream().map(s -> MiniLm.MODEL.embed(s).content()).toList();
    }

    /**
     * The bar: recall@10 >= 0.98 against F32 on real embeddings. Measured: 1.0 for both here (600 sentences,
     * 60 queries); 0.999 (BF16) and 0.994 (I8) on 1500 sentences and 100 queries.
     */
    @ParameterizedTest
    @EnumSource(value = ElementType.class, names = {"BF16", "I8"})
    void should_keep_recall_at_10_of_at_least_098_on_real_model_embeddings(ElementType storage) {
        Recall r = recall(storage, corpus, corpusQueries);
        System.out.printf("minilm corpus: storage=%s recall@10 vs F32 = %.4f, worst score difference %.1e%n",
                storage, r.recall, r.worstScoreError);
        assertThat(r.recall).isGreaterThanOrEqualTo(0.98);
        assertThat(r.worstScoreError).isLessThan(storage == ElementType.I8 ? 2e-3 : 5e-4);
    }

    /**
     * Synthetic clusters: {@code noise 0.8} spreads neighbours as a sentence model does, {@code 0.35} packs them into
     * near-duplicates whose top-10 differ by less than I8's rounding (about 5e-4 in score), the hard case: there I8
     * keeps about 0.97 (measured 0.968), the float types and I16 stay above 0.99.
     */
    @ParameterizedTest
    @EnumSource(value = ElementType.class, names = {"F16", "BF16", "I8", "I16"})
    void should_keep_recall_on_synthetic_clusters(ElementType storage) {
        for (double noise : new double[] {0.8, 0.35}) {
            Recall r = recall(storage, SyntheticEmbeddings.clustered(42, 5000, 384, 50, noise),
                    SyntheticEmbeddings.clustered(43, 100, 384, 50, noise));
            System.out.printf("synthetic noise=%.2f: storage=%s recall@10 vs F32 = %.4f, worst score difference"
                    + " %.1e%n", noise, storage, r.recall, r.worstScoreError);
            double bar = storage == ElementType.I8 ? (noise < 0.5 ? 0.95 : 0.97) : 0.99;
            assertThat(r.recall).as("noise " + noise).isGreaterThanOrEqualTo(bar);
        }
    }

    @ParameterizedTest
    @EnumSource(value = ElementType.class, names = {"BF16", "I8"})
    void should_return_the_decoded_vector_close_to_the_original(ElementType storage) {
        Embedding original = corpus.getFirst();
        try (MempipeEmbeddingStore store = MempipeEmbeddingStore.builder().storage(storage).build()) {
            store.add(original);
            Embedding back = store.search(EmbeddingSearchRequest.builder().queryEmbedding(original).build()).matches()
                    .getFirst().embedding();
            assertThat(back.dimension()).isEqualTo(original.dimension());
            assertThat(ScalarOracle.cosine(original.vector(), back.vector())).isCloseTo(1.0, within(1e-3));
        }
    }

    private record Recall(double recall, double worstScoreError) {
    }

    private static Recall recall(ElementType storage, List<Embedding> vectors, List<Embedding> queries) {
        try (MempipeEmbeddingStore f32 = MempipeEmbeddingStore.builder().build();
             MempipeEmbeddingStore compact = MempipeEmbeddingStore.builder().storage(storage).build()) {
            List<String> ids = f32.addAll(vectors);
            compact.addAll(ids, vectors, null);
            int found = 0;
            double worst = 0;
            for (Embedding q : queries) {
                var request = EmbeddingSearchRequest.builder().queryEmbedding(q).maxResults(K).build();
                List<EmbeddingMatch<TextSegment>> truth = f32.search(request).matches();
                List<EmbeddingMatch<TextSegment>> got = compact.search(request).matches();
                Set<String> truthIds = new HashSet<>();
                truth.forEach(m -> truthIds.add(m.embeddingId()));
                for (EmbeddingMatch<TextSegment> m : got) {
                    found += truthIds.contains(m.embeddingId()) ? 1 : 0;
                }
                for (int i = 0; i < K; i++) {
                    worst = Math.max(worst, Math.abs(truth.get(i).score() - got.get(i).score()));
                }
            }
            return new Recall((double) found / (queries.size() * K), worst);
        }
    }
}
