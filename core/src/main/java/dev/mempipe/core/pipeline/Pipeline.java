package dev.mempipe.core.pipeline;

/**
 * One workload of the memory processing pipeline, as its four steps. Every workload of the op contract's
 * table (Quest, SeerAttention-R, DSA, BM25 and dense RAG, HMT) and the dense-attention baseline has this shape,
 * and every op a step runs goes through an {@link dev.mempipe.core.engine.Engine}, so placement, CPU fallback and
 * profiling apply to all of them alike.
 *
 * <p>Results ({@code S}, {@code R}, {@code O}) may be views of scratch memory the pipeline allocated once: each
 * is valid until the next call of the same step. Pipelines are not thread-safe: one decoding thread drives one.
 *
 * @param <M> what Prepare Memory takes in (new KV rows, documents, embeddings, segment summaries)
 * @param <Q> the query
 * @param <S> the relevancy scores
 * @param <R> the retrieval's selection
 * @param <O> what Apply to Inference produces (an attention output, an assembled prompt, a memory read)
 */
public interface Pipeline<M, Q, S, R, O> {

    /** Stage 1, Prepare Memory: turns {@code input} into searchable memory (appends it). */
    void prepare(M input);

    /** Stage 2, Compute Relevancy: scores the memory against {@code query}. */
    S relevancy(Q query);

    /** Stage 3, Retrieval: chooses what to use from {@code scores}. */
    R retrieve(S scores);

    /** Stage 4, Apply to Inference: uses the {@code selection} for {@code query}. */
    O apply(Q query, R selection);

    /** One decode step's use of the memory: relevancy, retrieval and apply for {@code query}. */
    default O step(Q query) {
        return apply(query, retrieve(relevancy(query)));
    }
}
