package dev.mempipe.langchain4j;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks of what users hand the store, before anything is stored: an add that fails any check changes nothing.
 * Messages name the argument, the position in its list, the value and the limit.
 */
final class InputChecks {
    /**
     * Norms outside {@code [MIN_NORM, MAX_NORM]} (other than 0) are refused: scans accumulate dot products and
     * squared norms in f32, and beyond these bounds they would overflow or lose their precision to subnormals. Embedding models produce norms near 1.
     */
    static final double MIN_NORM = 0x1p-60;
    static final double MAX_NORM = 0x1p60;

    private InputChecks() {
    }

    /**
     * The vector of {@code embedding}, checked: not null, {@code dimension} elements (any number when
     * {@code dimension} is 0), all finite, norm 0 or within {@code [MIN_NORM, MAX_NORM]}.
     *
     * @param name how the message names it, e.g. {@code embeddings[3]}
     */
    static float[] vector(String name, Embedding embedding, int dimension) {
        if (embedding == null) {
            throw new IllegalArgumentException(name + " is null");
        }
        float[] v = embedding.vector();
        if (v.length == 0) {
            throw new IllegalArgumentException(name + " has no elements");
        }
        if (dimension != 0 && v.length != dimension) {
            throw new IllegalArgumentException(name + " has dimension " + v.length + " but this store holds "
                    + dimension + "-dimensional embeddings");
        }
        double sumSquares = 0;
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i])) {
                throw new IllegalArgumentException(name + " holds " + v[i] + " at element " + i
                        + "; embeddings must be finite");
            }
            sumSquares += (double) v[i] * v[i];
        }
        double norm = Math.sqrt(sumSquares);
        if (norm != 0 && (norm < MIN_NORM || norm > MAX_NORM)) {
            throw new IllegalArgumentException(name + " has L2 norm " + norm + ", outside [2^-60, 2^60]; scale it"
                    + " (cosine does not depend on the norm)");
        }
        return v;
    }

    /**
     * Checks the ids of an add: none null or blank, none repeated within the batch, none already in the store.
     */
    static void ids(List<String> ids, Entries stored) {
        Map<String, Integer> seen = new HashMap<>(ids.size() * 2);
        for (int i = 0; i < ids.size(); i++) {
            String id = ids.get(i);
            if (id == null || id.isBlank()) {
                throw new IllegalArgumentException("ids[" + i + "] is " + (id == null ? "null" : "blank")
                        + "; every embedding needs a non-blank id");
            }
            Integer first = seen.putIfAbsent(id, i);
            if (first != null) {
                throw new IllegalArgumentException("ids[" + i + "] '" + id + "' repeats ids[" + first + "]");
            }
            if (stored.contains(id)) {
                throw new IllegalArgumentException("ids[" + i + "] '" + id + "' is already in the store; remove it"
                        + " first to replace it");
            }
        }
    }

    /** Checks that no segment of an add is null ({@code segments} itself may be null: no segments at all). */
    static void segments(List<TextSegment> segments) {
        if (segments == null) {
            return;
        }
        for (int i = 0; i < segments.size(); i++) {
            if (segments.get(i) == null) {
                throw new IllegalArgumentException("embedded[" + i + "] is null; pass a null list to add"
                        + " embeddings without segments");
            }
        }
    }
}
