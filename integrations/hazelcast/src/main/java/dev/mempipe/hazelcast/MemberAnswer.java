package dev.mempipe.hazelcast;

import java.io.Serializable;

/** What a member's part of a query returns: at least the partitions it answered for. */
interface MemberAnswer extends Serializable {
    /** The partitions whose rows this answer covers, ascending. */
    int[] partitions();
}
