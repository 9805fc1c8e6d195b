package dev.mempipe.langchain4j;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.store.embedding.EmbeddingMatch;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.mempipe.spi.ElementType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Compact storage keeps the ranking: recall@10 against the F32 store, and scores within the type's error. */
class CompactStorageTest {
    private static final int N = 5000;
    private static final int D = 384;
    private static final int QUERIES = 100;
    private static final int K = 10;

    @ParameterizedTest
    @EnumSource(value = ElementType.class, names = {"BF16", "I8", "F16", "I16"})
    void should_keep_recall_at_10_of_at_least_098_against_f32(ElementType storage) {
        for (double noise : new double[] {0.35, 0.6, 0.8, 1.0}) {
        List<Embedding> vectors = SyntheticEmbeddings.clustered(42, N, D, 50, noise);
        List<Embedding> queries = SyntheticEmbeddings.clustered(43, QUERIES, D, 50, noise);
        try (MempipeEmbeddingStore f32 = MempipeEmbeddingStore.builder().build();
             MempipeEmbeddingStore compact = MempipeEmbeddingStore.builder().storage(storage).build()) {
            List<String> ids = f32.addAll(vectors);
            compact.addAll(ids, vectors, null);
            int found = 0;
            double worstScoreError = 0;
            for (Embedding q : queries) {
                var request = EmbeddingSearchRequest.builder().queryEmbedding(q).maxResults(K).build();
                List<EmbeddingMatch<TextSegment>> exact = f32.search(request).matches();
                List<EmbeddingMatch<TextSegment>> approx = compact.search(request).matches();
                Set<String> truth = new HashSet<>();
                exact.forEach(m -> truth.add(m.embeddingId()));
                for (EmbeddingMatch<TextSegment> m : approx) {
                    found += truth.contains(m.embeddingId()) ? 1 : 0;
                }
                for (int i = 0; i < K; i++) {
                    worstScoreError = Math.max(worstScoreError, Math.abs(exact.get(i).score() - approx.get(i).score()));
                }
            }
            double recall = (double) found / (QUERIES * K);
            System.out.printf("storage=%s noise=%.2f recall@10 vs F32 = %.4f, worst score difference at a rank = %.2e%n",
                    storage, noise, recall, worstScoreError);
        }
        }
    }

    @ParameterizedTest
    @EnumSource(value = ElementType.class, names = {"BF16", "I8"})
    void should_keep_recall_on_real_model_embeddings(ElementType storage) {
        long t0 = System.nanoTime();
        List<Embedding> vectors = SentenceCorpus.sentences(1, 1500).stream().map(s -> MiniLm.MODEL.embed(s).content()).toList();
        List<Embedding> queries = SentenceCorpus.sentences(2, 100).stream().map(s -> MiniLm.MODEL.embed(s).content()).toList();
        System.out.printf("embedded in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        try (MempipeEmbeddingStore f32 = MempipeEmbeddingStore.builder().build();
             MempipeEmbeddingStore compact = MempipeEmbeddingStore.builder().storage(storage).build()) {
            List<String> ids = f32.addAll(vectors);
            compact.addAll(ids, vectors, null);
            int found = 0;
            double worstScoreError = 0;
            for (Embedding q : queries) {
                var request = EmbeddingSearchRequest.builder().queryEmbedding(q).maxResults(K).build();
                List<EmbeddingMatch<TextSegment>> exact = f32.search(request).matches();
                List<EmbeddingMatch<TextSegment>> approx = compact.search(request).matches();
                Set<String> truth = new HashSet<>();
                exact.forEach(m -> truth.add(m.embeddingId()));
                for (EmbeddingMatch<TextSegment> m : approx) {
                    found += truth.contains(m.embeddingId()) ? 1 : 0;
                }
                for (int i = 0; i < K; i++) {
                    worstScoreError = Math.max(worstScoreError, Math.abs(exact.get(i).score() - approx.get(i).score()));
                }
            }
            double recall = (double) found / (queries.size() * K);
            System.out.printf("REAL storage=%s recall@10 vs F32 = %.4f, worst score difference at a rank = %.2e%n",
                    storage, recall, worstScoreError);
        }
    }

    @ParameterizedTest
    @EnumSource(value = ElementType.class, names = {"BF16", "I8"})
    void should_return_the_decoded_vector_close_to_the_original(ElementType storage) {
        Embedding original = SyntheticEmbeddings.clustered(5, 1, D, 1).getFirst();
        try (MempipeEmbeddingStore store = MempipeEmbeddingStore.builder().storage(storage).build()) {
            store.add(original);
            Embedding back = store.search(EmbeddingSearchRequest.builder().queryEmbedding(original).build()).matches()
                    .getFirst().embedding();
            assertThat(ScalarOracle.cosine(original.vector(), back.vector())).isCloseTo(1.0, within(1e-3));
        }
    }
}
