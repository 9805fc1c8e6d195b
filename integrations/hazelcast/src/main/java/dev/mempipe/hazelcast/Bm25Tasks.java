package dev.mempipe.hazelcast;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceAware;
import dev.mempipe.spi.Bm25Idf;
import dev.mempipe.spi.Bm25Params;

import java.io.Serial;
import java.io.Serializable;
import java.util.concurrent.Callable;

/** A member's two parts of a distributed BM25 search: its statistics, then its top-k under the cluster's. */
final class Bm25Tasks {
    private Bm25Tasks() {
    }

    private abstract static class OnReplica<R> implements Callable<R>, Serializable, HazelcastInstanceAware {
        @Serial
        private static final long serialVersionUID = 1L;
        final String rowsMap;
        final String replicaKey;
        final long[] versions;
        transient HazelcastInstance hz;

        OnReplica(String rowsMap, String replicaKey, long[] versions) {
            this.rowsMap = rowsMap;
            this.replicaKey = replicaKey;
            this.versions = versions;
        }

        @Override
        public void setHazelcastInstance(HazelcastInstance hazelcastInstance) {
            this.hz = hazelcastInstance;
        }

        <T> T read(MemberReplica.Reader<Bm25Replica, T> reader) {
            MemberReplica<Bm25Replica> replica = MemberReplica.of(hz, replicaKey);
            return replica.read(Partitions.ownedLocally(hz), versions,
                    partitions -> Bm25Replica.build(hz, rowsMap, partitions, MemberEngine.of(hz)), reader);
        }
    }

    static final class Stats extends OnReplica<Bm25Stats> {
        @Serial
        private static final long serialVersionUID = 1L;
        private final int[] terms;

        Stats(String rowsMap, String replicaKey, long[] versions, int[] terms) {
            super(rowsMap, replicaKey, versions);
            this.terms = terms;
        }

        @Override
        public Bm25Stats call() {
            return read((copy, coverage) -> copy.stats(terms, coverage));
        }
    }

    static final class Score extends OnReplica<RankedAnswer> {
        @Serial
        private static final long serialVersionUID = 1L;
        private final int[] terms;
        private final int k;
        private final float k1;
        private final float b;
        private final Bm25Idf idf;
        private final int globalDocs;
        private final long globalTokens;
        private final int[] globalDf;

        Score(String rowsMap, String replicaKey, long[] versions, int[] terms, int k, Bm25Params params,
              int globalDocs, long globalTokens, int[] globalDf) {
            super(rowsMap, replicaKey, versions);
            this.terms = terms;
            this.k = k;
            this.k1 = params.k1();
            this.b = params.b();
            this.idf = params.idf();
            this.globalDocs = globalDocs;
            this.globalTokens = globalTokens;
            this.globalDf = globalDf;
        }

        @Override
        public RankedAnswer call() {
            Bm25Params params = new Bm25Params(k1, b, idf);
            return read((copy, coverage) -> copy.search(terms, k, params, globalDocs, globalTokens, globalDf,
                    coverage));
        }
    }
}
