package dev.mempipe.fpga;

import dev.mempipe.spi.Bm25Index;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The {@code bm25} kernel's doc-major forward index, built from a {@link Bm25Index}'s inverted lists: for each
 * document its (term id, tf) pairs as two 32-bit words, every term kept (ascending term id), the pair offsets
 * per document and the document lengths. Term ids are the index's non-negative ints, so any id fits the 32-bit
 * term word. Immutable after construction.
 */
final class ForwardIndex {
    final MemorySegment docOffsets; // uint32 [N + 1], in pairs
    final MemorySegment pairs;      // uint32 [2 * pairs]
    final MemorySegment docLengths; // uint32 [N]

    ForwardIndex(Arena arena, Bm25Index index) {
        int docs = index.numDocs();
        int[] counts = new int[docs + 1];
        int[] postingDocs = index.postingDocs();
        for (int doc : postingDocs) {
            counts[doc + 1]++;
        }
        for (int d = 0; d < docs; d++) {
            counts[d + 1] += counts[d];
        }
        docOffsets = arena.allocate(ValueLayout.JAVA_INT, docs + 1L);
        MemorySegment.copy(counts, 0, docOffsets, ValueLayout.JAVA_INT, 0, docs + 1);
        pairs = arena.allocate(ValueLayout.JAVA_INT, Math.max(2, 2L * postingDocs.length));
        int[] next = counts.clone();
        for (int term = 0; term < index.vocabularySize(); term++) {
            for (int at = index.postingStart(term); at < index.postingEnd(term); at++) {
                int doc = postingDocs[at];
                long slot = next[doc]++;
                pairs.setAtIndex(ValueLayout.JAVA_INT, 2 * slot, term);
                pairs.setAtIndex(ValueLayout.JAVA_INT, 2 * slot + 1, index.postingTfs()[at]);
            }
        }
        docLengths = arena.allocate(ValueLayout.JAVA_INT, Math.max(1, docs));
        MemorySegment.copy(index.docLengths(), 0, docLengths, ValueLayout.JAVA_INT, 0, docs);
    }

    long bytes() {
        return docOffsets.byteSize() + pairs.byteSize() + docLengths.byteSize();
    }
}
