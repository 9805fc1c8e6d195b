package dev.mempipe.hazelcast;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceAware;
import dev.mempipe.spi.ElementType;

import java.io.Serial;
import java.io.Serializable;
import java.util.concurrent.Callable;

/** A member's part of a distributed embedding search: its exact top-k over the partitions it owns. */
final class EmbeddingSearchTask implements Callable<RankedAnswer>, Serializable, HazelcastInstanceAware {
    @Serial
    private static final long serialVersionUID = 1L;
    private final String rowsMap;
    private final String replicaKey;
    private final int dimension;
    private final ElementType storage;
    private final long[] versions;
    private final float[] query;
    private final int k;
    private transient HazelcastInstance hz;

    EmbeddingSearchTask(String rowsMap, String replicaKey, int dimension, ElementType storage, long[] versions,
                        float[] query, int k) {
        this.rowsMap = rowsMap;
        this.replicaKey = replicaKey;
        this.dimension = dimension;
        this.storage = storage;
        this.versions = versions;
        this.query = query;
        this.k = k;
    }

    @Override
    public void setHazelcastInstance(HazelcastInstance hazelcastInstance) {
        this.hz = hazelcastInstance;
    }

    @Override
    public RankedAnswer call() {
        MemberReplica<EmbeddingReplica> replica = MemberReplica.of(hz, replicaKey);
        return replica.read(Partitions.ownedLocally(hz), versions,
                partitions -> EmbeddingReplica.build(hz, rowsMap, partitions, dimension, storage,
                        MemberEngine.of(hz)),
                (copy, coverage) -> copy.search(query, k, coverage));
    }
}
