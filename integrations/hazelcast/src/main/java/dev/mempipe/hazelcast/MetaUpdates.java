package dev.mempipe.hazelcast;

import com.hazelcast.map.EntryProcessor;

import java.io.Serial;
import java.util.Map;

/**
 * Entry processors on a memory's meta map. Each runs on the owner of its key's partition, atomically with other
 * operations on that key, and (as its own backup processor) on every backup replica before the call returns, so what
 * it changed survives the loss of the owner.
 */
final class MetaUpdates {
    private MetaUpdates() {
    }

    /** Reserves {@code count} consecutive row ids; returns the first. The value is {@code {next id}}. */
    static final class ReserveIds implements EntryProcessor<String, long[], Long> {
        @Serial
        private static final long serialVersionUID = 1L;
        private final long count;

        ReserveIds(long count) {
            this.count = count;
        }

        @Override
        public Long process(Map.Entry<String, long[]> entry) {
            long[] value = entry.getValue();
            long first = value == null ? 0 : value[0];
            entry.setValue(new long[] {Math.addExact(first, count)});
            return first;
        }
    }

    /**
     * Adds one to the version of each listed partition. The value is {@code long[partitionCount]}; a writer bumps
     * the partitions it wrote after the write returned, so a member copy stamped with version {@code v} of a
     * partition holds every write acknowledged up to {@code v}.
     */
    static final class BumpVersions implements EntryProcessor<String, long[], Void> {
        @Serial
        private static final long serialVersionUID = 1L;
        private final int partitionCount;
        private final int[] partitions;

        BumpVersions(int partitionCount, int[] partitions) {
            this.partitionCount = partitionCount;
            this.partitions = partitions;
        }

        @Override
        public Void process(Map.Entry<String, long[]> entry) {
            long[] value = entry.getValue();
            long[] next = value == null ? new long[partitionCount] : value.clone();
            for (int p : partitions) {
                next[p]++;
            }
            entry.setValue(next);
            return null;
        }
    }
}
