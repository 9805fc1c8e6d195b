/**
 * The memories of the engine: the prepared forms of context that the four pipeline steps read.
 *
 * <ul>
 *   <li>{@link dev.mempipe.core.memory.PagedKvMemory}: one layer's KV cache with Quest / LServe page min/max
 *       summaries, kept current on every append.</li>
 *   <li>{@link dev.mempipe.core.memory.BlockGateMemory}: SeerAttention-R gate keys, pooled (max, min, mean)
 *       over blocks of tokens and projected.</li>
 *   <li>{@link dev.mempipe.core.memory.IndexerKeyMemory}: DeepSeek DSA lightning-indexer keys, one small key
 *       per token in F16 or I8.</li>
 *   <li>{@link dev.mempipe.core.memory.Bm25Memory}: documents as term ids and their BM25 index, with
 *       {@link dev.mempipe.core.memory.SimpleTokenizer} for text.</li>
 *   <li>{@link dev.mempipe.core.memory.EmbeddingMemory}: embeddings with exact scan or Lucene HNSW search, kept as
 *       {@link dev.mempipe.core.memory.EmbeddingRows} (rows as given plus inverse norms: the one representation,
 *       shared with the LangChain4j store) and searched exactly by {@link dev.mempipe.core.memory.EmbeddingScan}.</li>
 *   <li>{@link dev.mempipe.core.memory.HnswIndex}: the one Lucene HNSW graph, over any
 *       {@link dev.mempipe.core.memory.HnswVectors} (the embedding memory's rows, the LangChain4j store's), with
 *       filtered search and an exact-scan fallback.</li>
 *   <li>{@link dev.mempipe.core.memory.CompressedMemory}: HMT's bounded list of segment summaries with a soft
 *       read.</li>
 * </ul>
 *
 * <h2>Memory ownership</h2>
 * Every memory allocates its buffers once, at construction, from an {@link java.lang.foreign.Arena} the
 * caller owns; closing that arena ends the memory (later calls fail with {@link IllegalStateException}). A memory
 * that pins its data on a device is {@link AutoCloseable}: {@code close()} frees the device copies. Capacities are fixed at
 * construction; an append that would exceed one fails with an {@link IllegalStateException} that names the
 * capacity, before anything is written.
 *
 * <p>Give a memory a shared arena ({@link java.lang.foreign.Arena#ofShared()} or the global one): readers on
 * other threads must be able to reach its buffers, and the CPU backend splits large ops over a thread pool,
 * which a confined arena forbids. Searches allocate their small per-call scratch (score rows, top-k output)
 * from a shared arena of their own, closed before they return.
 *
 * <h2>Threading</h2>
 * The append-only memories (all but {@code CompressedMemory}) follow one protocol: a single writer fills the
 * new rows and only then publishes the new length with a volatile store; a reader reads the length once (a
 * volatile load) and takes views of rows {@code [0, length)}. The views are plain {@link dev.mempipe.spi.Tensor}s
 * over the memory's buffers: no copy, and later appends never write the rows they cover. Appends are
 * {@code synchronized}, so several writers are safe, only serialized; the intended use is one decoding
 * thread. Exceptions to "never write" are named in each class ({@code PagedKvMemory}'s partial last page,
 * {@code BlockGateMemory}'s remainder). {@code CompressedMemory} evicts, so it cannot hand out stable views;
 * it reads under a read lock instead.
 *
 * <p>Validation happens at the public edge: a wrongly shaped argument throws
 * {@link IllegalArgumentException} naming the argument, its shape and the expected one.
 */
package dev.mempipe.core.memory;
