package dev.mempipe.hazelcast;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceAware;
import dev.mempipe.spi.ElementType;

import java.io.Serial;
import java.io.Serializable;
import java.util.concurrent.Callable;

/** A member's part of a cluster store search: its best matches, filter tested where the entries are. */
final class StoreSearchTask implements Callable<StoreAnswer>, Serializable, HazelcastInstanceAware {
    @Serial
    private static final long serialVersionUID = 1L;
    private final String rowsMap;
    private final String replicaKey;
    private final ElementType storage;
    private final long[] versions;
    private final float[] query;
    private final int maxResults;
    private final double minScore;
    private final byte[] filter;
    private transient HazelcastInstance hz;

    StoreSearchTask(String rowsMap, String replicaKey, ElementType storage, long[] versions, float[] query,
                    int maxResults, double minScore, byte[] filter) {
        this.rowsMap = rowsMap;
        this.replicaKey = replicaKey;
        this.storage = storage;
        this.versions = versions;
        this.query = query;
        this.maxResults = maxResults;
        this.minScore = minScore;
        this.filter = filter;
    }

    @Override
    public void setHazelcastInstance(HazelcastInstance hazelcastInstance) {
        this.hz = hazelcastInstance;
    }

    @Override
    public StoreAnswer call() {
        MemberReplica<StoreReplica> replica = MemberReplica.of(hz, replicaKey);
        return replica.read(Partitions.ownedLocally(hz), versions,
                partitions -> StoreReplica.build(hz, rowsMap, partitions, storage),
                (copy, coverage) -> copy.search(query, maxResults, minScore, filter, coverage));
    }
}
