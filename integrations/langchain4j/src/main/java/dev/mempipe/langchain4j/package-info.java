/**
 * mempipe as a LangChain4j embedding store: {@link dev.mempipe.langchain4j.MempipeEmbeddingStore}, off-heap vectors
 * searched with mempipe's SIMD ops (exact) or a Lucene HNSW graph (approximate), with metadata filters, removal,
 * batched search and a checksummed file format.
 */
package dev.mempipe.langchain4j;
