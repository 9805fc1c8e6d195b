/**
 * A decoder to profile the memory pipeline against, and the profiler.
 *
 * <ul>
 *   <li>{@link dev.mempipe.core.model.DecoderConfig} and {@link dev.mempipe.core.model.DecoderModel}: a
 *       Llama-style decoder with seeded random weights (F32 or BF16) whose attention is any
 *       {@link dev.mempipe.core.pipeline.AttentionProvider}; its own work (projections, norms, RoPE, MLP, LM head)
 *       is timed into {@link dev.mempipe.core.model.ModelWork}.</li>
 *   <li>{@link dev.mempipe.core.model.SyntheticKv}: KV with planted structure (needles, heavy hitters, a recent
 *       window) for a query, and {@link dev.mempipe.core.model.AttentionAccuracy}: a sparse selection's relative
 *       error and softmax mass against dense attention.</li>
 *   <li>{@link dev.mempipe.core.model.WorkloadProfiler}: one workload at one context size, built in bulk, decoded
 *       for a few steps, split into memory pipeline and the rest
 *       ({@link dev.mempipe.core.model.WorkloadProfile} defines the split).</li>
 * </ul>
 *
 * <pre>{@code
 * try (WorkloadProfiler profiler = new WorkloadProfiler()) {
 *     WorkloadProfile p = profiler.profile(Workload.QUEST, 65536, DecoderConfig.tiny());
 *     System.out.printf("%.1f%% of a decode step, %.3f of the softmax mass%n",
 *             100 * p.memoryShare(), p.accuracy().massCovered());
 * }
 * }</pre>
 *
 * <p>Random weights carry no knowledge: where a workload needs learned parts (SeerAttention-R's gate, DSA's
 * indexer) the attention workloads use constructions that track attention without training
 * ({@link dev.mempipe.core.model.WorkloadAttention}), and accuracy is measured on planted structure, not text.
 */
package dev.mempipe.core.model;
