package dev.mempipe.hazelcast;

import java.io.Serial;
import java.io.Serializable;
import java.util.List;

/**
 * A member's best store matches for a request.
 *
 * @param coverage   what the matches were read from
 * @param matches    best first
 */
record StoreAnswer(Coverage coverage, List<Match> matches) implements MemberAnswer {
    @Serial
    private static final long serialVersionUID = 1L;

    /**
     * @param score LangChain4j's relevance score
     * @param id    the entry's id
     * @param entry the entry ({@link EntryCodec}) with the vector as stored (decoded for BF16/I8 storage)
     */
    record Match(double score, String id, byte[] entry) implements Serializable {
        @Serial
        private static final long serialVersionUID = 1L;
    }
}
