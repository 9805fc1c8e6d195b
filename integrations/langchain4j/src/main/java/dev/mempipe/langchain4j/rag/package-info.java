/**
 * The offline RAG example: {@link dev.mempipe.langchain4j.rag.TextFolder} turns a folder of text files into
 * paragraph passages, and {@link dev.mempipe.langchain4j.rag.RagIndex} embeds them with a local model into a
 * {@link dev.mempipe.langchain4j.MempipeEmbeddingStore} and a BM25 index, and answers queries with the top passages
 * by dense, BM25 or hybrid retrieval. {@code mempipe rag} runs it from the command line with all-MiniLM-L6-v2.
 */
package dev.mempipe.langchain4j.rag;
