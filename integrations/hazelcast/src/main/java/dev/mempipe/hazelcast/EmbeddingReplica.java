package dev.mempipe.hazelcast;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.query.Predicates;
import dev.mempipe.core.memory.EmbeddingMemory;
import dev.mempipe.core.memory.Hits;
import dev.mempipe.core.memory.HnswSettings;
import dev.mempipe.core.engine.Engine;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A member's off-heap copy of its partitions' embeddings: a core {@link EmbeddingMemory} (stored as the memory's
 * element type, with inverse norms, by the same ops through the member's engine as on a single node) holding the rows
 * in ascending id order, and the id of each row. Ascending ids make the memory's tie rule (lower row first) the cluster's (lower id first).
 *
 * <p>Thread-safety: immutable once built; searches may run in parallel ({@link EmbeddingMemory}'s rule).
 */
final class EmbeddingReplica implements AutoCloseable {
    /** Rows staged per append: bounds the f32 staging memory of a rebuild. */
    private static final int STAGING_ROWS = 4096;

    private final Arena arena;
    private final EmbeddingMemory memory; // null when the member holds no rows
    private final long[] ids;

    private EmbeddingReplica(Arena arena, EmbeddingMemory memory, long[] ids) {
        this.arena = arena;
        this.memory = memory;
        this.ids = ids;
    }

    /** Reads the rows of {@code partitions} from the member's map data and copies them off-heap. */
    static EmbeddingReplica build(HazelcastInstance hz, String rowsMap, int[] partitions, int dimension,
                                  ElementType storage, Engine engine) {
        List<Map.Entry<Long, byte[]>> entries = new ArrayList<>();
        if (partitions.length > 0) {
            IMap<Long, byte[]> rows = hz.getMap(rowsMap);
            Set<Map.Entry<Long, byte[]>> read = rows.entrySet(Predicates.multiPartitionPredicate(
                    Partitions.routingKeys(hz, partitions), Predicates.alwaysTrue()));
            entries.addAll(read);
        }
        entries.sort(Map.Entry.comparingByKey());
        int n = entries.size();
        long[] ids = new long[n];
        if (n == 0) {
            return new EmbeddingReplica(null, null, ids);
        }
        Arena arena = Arena.ofShared(); // shared: the backend splits large scans over its threads
        try {
            EmbeddingMemory memory = new EmbeddingMemory(arena, engine, dimension, n, storage, HnswSettings.DEFAULT);
            long rowBytes = (long) dimension * Float.BYTES;
            float[] staging = new float[Math.min(n, STAGING_ROWS) * dimension];
            MemorySegment stagingBytes = MemorySegment.ofArray(staging);
            for (int from = 0; from < n; from += STAGING_ROWS) {
                int count = Math.min(STAGING_ROWS, n - from);
                for (int r = 0; r < count; r++) {
                    Map.Entry<Long, byte[]> entry = entries.get(from + r);
                    ids[from + r] = entry.getKey();
                    MemorySegment.copy(MemorySegment.ofArray(entry.getValue()), 0, stagingBytes, r * rowBytes, rowBytes);
                }
                memory.append(Tensor.wrap(stagingBytes, ElementType.F32, count, dimension));
            }
            return new EmbeddingReplica(arena, memory, ids);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /** This member's best {@code min(k, rows)} rows for {@code query}, best first, with their ids. */
    RankedAnswer search(float[] query, int k, Coverage coverage) {
        if (memory == null) {
            return new RankedAnswer(coverage, new long[0], new float[0]);
        }
        Hits hits = memory.search(Tensor.wrap(MemorySegment.ofArray(query), ElementType.F32, 1, query.length), k);
        long[] rowIds = new long[hits.size()];
        for (int rank = 0; rank < rowIds.length; rank++) {
            rowIds[rank] = ids[hits.id(rank)];
        }
        return new RankedAnswer(coverage, rowIds, hits.scores());
    }

    int rows() {
        return ids.length;
    }

    @Override
    public void close() {
        if (memory != null) {
            memory.close(); // frees a device copy, if the engine's plan pinned one
        }
        if (arena != null) {
            arena.close();
        }
    }
}
