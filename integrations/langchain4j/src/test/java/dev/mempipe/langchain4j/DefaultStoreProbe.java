package dev.mempipe.langchain4j;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.mempipe.core.memory.HnswSettings;
import dev.mempipe.spi.Step;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Run in a JVM of its own by {@link BackendPropertyTest} (the default backend is chosen once per JVM): an exact and
 * an approximate store built with every default, filled and searched, printing as {@code key=value} lines where
 * their steps ran and what they found.
 */
public final class DefaultStoreProbe {
    private DefaultStoreProbe() {
    }

    public static void main(String[] args) {
        Random random = new Random(5);
        List<Embedding> embeddings = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            float[] v = new float[24];
            for (int c = 0; c < v.length; c++) {
                v[c] = (float) random.nextGaussian();
            }
            embeddings.add(Embedding.from(v));
        }
        try (MempipeEmbeddingStore exact = MempipeEmbeddingStore.builder().build();
             MempipeEmbeddingStore graph = MempipeEmbeddingStore.builder().approximate(HnswSettings.DEFAULT).build()) {
            for (MempipeEmbeddingStore store : List.of(exact, graph)) {
                String name = store.isApproximate() ? "graph" : "exact";
                store.addAll(embeddings.subList(0, 200));
                List<String> later = store.addAll(embeddings.subList(200, 300)); // the device copy must be refreshed
                Embedding query = embeddings.get(250);
                String best = store.search(EmbeddingSearchRequest.builder().queryEmbedding(query).maxResults(1)
                        .build()).matches().getFirst().embeddingId();
                System.out.println(name + ".foundItself=" + best.equals(later.get(50)));
                System.out.println(name + ".relevancy=" + store.engine().plan().deviceFor(Step.RELEVANCY));
                System.out.println(name + ".ranOn=" + store.engine().report().perOp().stream()
                        .map(o -> o.op() + "@" + o.device()).distinct().sorted().toList());
                System.out.println(name + ".fallbacks=" + store.engine().report().perOp().stream()
                        .mapToLong(o -> o.totals().fallbacks()).sum());
            }
        }
    }
}
