package dev.mempipe.hazelcast;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.query.Predicates;
import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.Bm25Memory;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.Bm25Params;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A member's off-heap copy of its partitions' documents: a core {@link Bm25Memory} holding them in ascending id order
 * (so the op's tie rule, lower document first, is the cluster's) and the id of each.
 *
 * <p>Thread-safety: immutable once built, apart from the memory's lazily built index and the cached placeholder
 * lengths, both safe to race on (the memory builds its index once; a raced cache entry is recomputed identically).
 * Every op (the index build, the scoring, the top-k) runs through the member's {@link Engine}.
 */
final class Bm25Replica implements AutoCloseable {
    private final Arena arena;
    private final Bm25Memory memory; // null when the member holds no documents
    private final long[] ids;
    private final long tokens;
    private final Engine engine;
    private volatile Padding padding;

    private record Padding(int globalDocs, long globalTokens, int[] lengths) {
    }

    private Bm25Replica(Arena arena, Bm25Memory memory, long[] ids, long tokens, Engine engine) {
        this.arena = arena;
        this.memory = memory;
        this.ids = ids;
        this.tokens = tokens;
        this.engine = engine;
    }

    static Bm25Replica build(HazelcastInstance hz, String rowsMap, int[] partitions, Engine engine) {
        List<Map.Entry<Long, int[]>> entries = new ArrayList<>();
        if (partitions.length > 0) {
            IMap<Long, int[]> rows = hz.getMap(rowsMap);
            entries.addAll(rows.entrySet(Predicates.multiPartitionPredicate(Partitions.routingKeys(hz, partitions),
                    Predicates.alwaysTrue())));
        }
        entries.sort(Map.Entry.comparingByKey());
        int n = entries.size();
        long[] ids = new long[n];
        long tokens = 0;
        for (int i = 0; i < n; i++) {
            ids[i] = entries.get(i).getKey();
            tokens += entries.get(i).getValue().length;
        }
        if (n == 0) {
            return new Bm25Replica(null, null, ids, 0, engine);
        }
        if (tokens > Integer.MAX_VALUE - 1) {
            throw new IllegalStateException("this member holds " + tokens + " tokens, more than one BM25 memory holds ("
                    + (Integer.MAX_VALUE - 1) + "); add members");
        }
        Arena arena = Arena.ofShared();
        try {
            Bm25Memory memory = new Bm25Memory(arena, engine, n, (int) Math.max(1, tokens));
            for (Map.Entry<Long, int[]> entry : entries) {
                memory.append(entry.getValue());
            }
            memory.index(); // built here, under the replica's rebuild lock, rather than by the first query
            return new Bm25Replica(arena, memory, ids, tokens, engine);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /** This member's document count, token count and the document frequency of each of {@code terms}. */
    Bm25Stats stats(int[] terms, Coverage coverage) {
        int[] df = new int[terms.length];
        if (memory != null) {
            Bm25Index index = memory.index();
            for (int i = 0; i < terms.length; i++) {
                df[i] = index.docFreq(terms[i]);
            }
        }
        return new Bm25Stats(coverage, ids.length, tokens, df);
    }

    /** This member's best {@code min(k, documents)} documents, scored with the cluster's statistics. */
    RankedAnswer search(int[] terms, int k, Bm25Params params, int globalDocs, long globalTokens, int[] globalDf,
                        Coverage coverage) {
        int n = ids.length;
        if (n == 0) {
            return new RankedAnswer(coverage, new long[0], new float[0]);
        }
        Bm25Index local = memory.index();
        Bm25Index global = Bm25GlobalIndex.of(local, padding(local, globalDocs, globalTokens), terms, globalDf);
        try (Arena scratch = Arena.ofShared()) { // shared: the backend may split the top-k over its threads
            Tensor scores = Tensor.allocate(scratch, ElementType.F32, 1, globalDocs);
            Indices query = Indices.of(scratch, terms);
            engine.runVoid(Op.BM25_SCORE, OpCosts.bm25Score(query, global, ElementType.F32),
                    b -> b.relevancy().bm25Score(query, global, params, scores));
            Tensor own = Tensor.wrap(scores.data(), ElementType.F32, 1, n, scores.rowStride(), null); // no placeholders
            int count = Math.min(k, n);
            Indices top = Indices.allocate(scratch, count);
            Tensor topScores = Tensor.allocate(scratch, ElementType.F32, 1, count);
            int found = engine.run(Op.TOP_K, OpCosts.topK(n, count, ElementType.F32, true),
                    b -> b.retrieval().topK(own, count, top, topScores));
            long[] rowIds = new long[found];
            float[] best = new float[found];
            for (int i = 0; i < found; i++) {
                rowIds[i] = ids[top.get(i)];
                best[i] = topScores.get(0, i);
            }
            return new RankedAnswer(coverage, rowIds, best);
        }
    }

    private int[] padding(Bm25Index local, int globalDocs, long globalTokens) {
        Padding cached = padding;
        if (cached == null || cached.globalDocs() != globalDocs || cached.globalTokens() != globalTokens) {
            cached = new Padding(globalDocs, globalTokens,
                    Bm25GlobalIndex.paddedLengths(local.docLengths(), globalDocs, globalTokens));
            padding = cached;
        }
        return cached.lengths();
    }

    @Override
    public void close() {
        if (memory != null) {
            memory.close(); // a device's copy of the index, if any
        }
        if (arena != null) {
            arena.close();
        }
    }
}
