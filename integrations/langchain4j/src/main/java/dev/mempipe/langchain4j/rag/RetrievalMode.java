package dev.mempipe.langchain4j.rag;

/** Which retriever a {@link RagIndex} answers with. */
public enum RetrievalMode {
    /** Cosine of the embeddings ({@link dev.mempipe.langchain4j.DenseRetriever}): finds paraphrases. */
    DENSE,
    /** BM25 over the words ({@link dev.mempipe.langchain4j.Bm25Retriever}): finds rare exact terms and names. */
    BM25,
    /** Both, fused by reciprocal rank ({@link dev.mempipe.langchain4j.HybridRetriever}). */
    HYBRID
}
