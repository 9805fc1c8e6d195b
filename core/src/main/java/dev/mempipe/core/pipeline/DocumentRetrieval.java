package dev.mempipe.core.pipeline;

import dev.mempipe.core.memory.Hits;

import java.util.List;
import java.util.function.Function;

/**
 * The retrieval a dynamic RAG pipeline calls when its trigger fires: a memory of documents, each a list of token
 * ids, searched with a query of token ids. Its Prepare, Relevancy and Retrieval run through the engine of the
 * RAG pipeline it wraps ({@link Bm25Pipeline}: bm25Index, bm25Score, topK; {@link DenseRagPipeline}: l2Normalize,
 * cosine, topK), so the profile records them under their steps.
 *
 * <p>Token ids are shared with the {@link LanguageModel}: a retrieved document is prefilled as its own ids, and
 * BM25 matches query ids against document ids. Not thread-safe (as the pipelines it wraps).
 */
public interface DocumentRetrieval {
    /** FLARE's and DRAGIN's number of documents per retrieval. */
    int DEFAULT_TOP_K = 3;

    /** Prepare: adds documents (token ids each); ids continue from those held. */
    void add(List<int[]> documents);

    /** Relevancy and Retrieval: the best documents for {@code query} (token ids), best first; may be empty. */
    Hits search(int[] query);

    /** The token ids of document {@code doc}. */
    int[] documentTokens(int doc);

    /** Documents held. */
    int size();

    /**
     * Lexical retrieval over {@code pipeline}'s memory (its documents' term ids are token ids). Documents scoring
     * 0 (no query term in common) are never returned; at most {@code pipeline.settings().topK()} are.
     */
    static DocumentRetrieval bm25(Bm25Pipeline pipeline) {
        return new Bm25DocumentRetrieval(pipeline);
    }

    /**
     * Dense retrieval over {@code pipeline}'s memory: documents and queries are embedded by {@code embedder}
     * (token ids to a vector {@code [1, d]}; the embedding model is outside the pipeline, as in
     * {@link DenseRagPipeline}).
     */
    static DocumentRetrieval dense(DenseRagPipeline pipeline, Function<int[], dev.mempipe.spi.Tensor> embedder) {
        return new DenseDocumentRetrieval(pipeline, embedder);
    }
}
