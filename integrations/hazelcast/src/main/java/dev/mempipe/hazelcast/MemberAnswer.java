package dev.mempipe.hazelcast;

import java.io.Serializable;

/** What a member's part of a query returns: at least what it was read from. */
interface MemberAnswer extends Serializable {
    Coverage coverage();
}
