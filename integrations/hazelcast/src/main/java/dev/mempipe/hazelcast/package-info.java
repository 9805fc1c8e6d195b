/**
 * mempipe's memories sharded over a Hazelcast cluster (scale-out): {@link dev.mempipe.hazelcast.DistributedEmbeddingMemory}
 * and {@link dev.mempipe.hazelcast.DistributedBm25Memory} answer exactly what one node holding the same rows answers,
 * each member scoring only the partitions it owns with mempipe's ops on an off-heap copy, and
 * {@link dev.mempipe.hazelcast.ClusterEmbeddingStore} puts a LangChain4j {@code MempipeEmbeddingStore} on the cluster.
 * Deployment, consistency, failure behaviour and limits: docs/scale-out.md.
 */
package dev.mempipe.hazelcast;
