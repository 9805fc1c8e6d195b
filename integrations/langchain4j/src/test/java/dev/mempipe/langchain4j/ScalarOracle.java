package dev.mempipe.langchain4j;

import dev.langchain4j.data.embedding.Embedding;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The store's search in plain double arithmetic over an insertion-ordered map: the reference the SIMD scan and the
 * graph are checked against. Scores are LangChain4j's {@code (cos + 1) / 2}.
 */
final class ScalarOracle {
    record Hit(String id, double score) {
    }

    private final Map<String, float[]> live = new LinkedHashMap<>();

    void add(String id, Embedding embedding) {
        live.put(id, embedding.vector().clone());
    }

    void remove(String id) {
        live.remove(id);
    }

    int size() {
        return live.size();
    }

    List<Hit> search(Embedding query, int k, Predicate<String> accept) {
        List<Hit> hits = new ArrayList<>();
        for (Map.Entry<String, float[]> e : live.entrySet()) {
            if (accept.test(e.getKey())) {
                hits.add(new Hit(e.getKey(), (cosine(query.vector(), e.getValue()) + 1) / 2));
            }
        }
        // a stable sort keeps insertion order among equal scores, as the store does
        hits.sort(Comparator.comparingDouble((Hit h) -> -h.score()));
        return hits.size() > k ? hits.subList(0, k) : hits;
    }

    List<Hit> search(Embedding query, int k) {
        return search(query, k, id -> true);
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
    }
}
