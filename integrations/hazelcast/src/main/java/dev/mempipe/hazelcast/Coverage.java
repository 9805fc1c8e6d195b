package dev.mempipe.hazelcast;

import java.io.Serial;
import java.io.Serializable;

/**
 * What a member's answer was read from: the partitions it covers, the version of each that its copy holds every
 * acknowledged write of, and the copy's generation (a new copy, a new generation).
 *
 * @param partitions ascending
 * @param stamps     {@code stamps[i]} is the version of {@code partitions[i]} the copy was read under
 * @param generation the member copy's generation
 */
record Coverage(int[] partitions, long[] stamps, long generation) implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;

    /** Whether the copy holds every write acknowledged up to {@code versions} in each of its partitions. */
    boolean atLeast(long[] versions) {
        for (int i = 0; i < partitions.length; i++) {
            if (stamps[i] < versions[partitions[i]]) {
                return false;
            }
        }
        return true;
    }
}
