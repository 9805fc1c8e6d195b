/**
 * The workloads of the memory processing pipeline, each as its four steps ({@link dev.mempipe.core.pipeline.Pipeline}):
 *
 * <table>
 *   <caption>Workloads and their steps (the op contract's table)</caption>
 *   <tr><th>class</th><th>Prepare</th><th>Relevancy</th><th>Retrieval</th><th>Apply</th></tr>
 *   <tr><td>{@link dev.mempipe.core.pipeline.QuestPipeline}</td><td>pageMinMax (incremental)</td>
 *       <td>questBound per KV head</td><td>topK pages, expandBlocks</td><td>sparse attention</td></tr>
 *   <tr><td>{@link dev.mempipe.core.pipeline.SeerAttentionPipeline}</td><td>pagePool MAX, MIN, MEAN, project</td>
 *       <td>pooled GQA query, project, dot, softmax</td><td>topK blocks or threshold, expandBlocks</td>
 *       <td>sparse attention</td></tr>
 *   <tr><td>{@link dev.mempipe.core.pipeline.DsaPipeline}</td><td>project to indexer keys (I8)</td>
 *       <td>project, indexerScore</td><td>topK 2048 tokens (+ sink, window)</td><td>sparse attention</td></tr>
 *   <tr><td>{@link dev.mempipe.core.pipeline.Bm25Pipeline}</td><td>bm25Index</td><td>bm25Score</td>
 *       <td>topK 64 documents</td><td>prompt assembly</td></tr>
 *   <tr><td>{@link dev.mempipe.core.pipeline.DenseRagPipeline}</td><td>l2Normalize (+ HNSW)</td><td>cosine</td>
 *       <td>topK or ann</td><td>prompt assembly</td></tr>
 *   <tr><td>{@link dev.mempipe.core.pipeline.HmtPipeline}</td><td>segment summaries</td><td>dot, softmax</td>
 *       <td>soft (every weight)</td><td>softRetrieve</td></tr>
 *   <tr><td>{@link dev.mempipe.core.pipeline.FlarePipeline}</td><td>documents indexed</td>
 *       <td>token confidence; bm25Score or cosine for the masked look-ahead</td><td>topK 3 documents</td>
 *       <td>re-prefill, regenerate</td></tr>
 *   <tr><td>{@link dev.mempipe.core.pipeline.DraginPipeline}</td><td>documents indexed</td>
 *       <td>entropy x last-layer attention (RIND); QFS query scored</td><td>topK 3 documents</td>
 *       <td>re-prefill, continue</td></tr>
 *   <tr><td>{@link dev.mempipe.core.pipeline.MemAgentPipeline}</td><td>memory rewrite (generation)</td><td>none</td>
 *       <td>the whole memory</td><td>memory prefill</td></tr>
 *   <tr><td>{@link dev.mempipe.core.pipeline.DenseAttention}</td><td>KV append</td><td>none</td><td>every row</td>
 *       <td>attention</td></tr>
 * </table>
 *
 * <p>Every op a step runs goes through an {@link dev.mempipe.core.engine.Engine} with its analytic
 * {@link dev.mempipe.core.profile.OpCost}, so the engine's plan places it, a failing device falls back to the
 * CPU, and the profile records it under its step. Work inside a memory (appends, which convert, pool and
 * index) runs on the backend the memory was built with and is recorded as one PREPARE run of the pipeline.
 *
 * <p>The attention workloads ({@link dev.mempipe.core.pipeline.KvPipeline}) serve one decoder layer each;
 * {@link dev.mempipe.core.pipeline.LayeredAttention} stacks them into the
 * {@link dev.mempipe.core.pipeline.AttentionProvider} a decoder calls. Outputs are views of scratch that
 * each pipeline allocates once; pipelines are driven by one thread.
 */
package dev.mempipe.core.pipeline;
