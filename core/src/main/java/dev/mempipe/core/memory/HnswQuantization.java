package dev.mempipe.core.memory;

import org.apache.lucene.util.quantization.QuantizedByteVectorValues.ScalarEncoding;

/**
 * What an {@link HnswIndex} walks its graph with ({@link HnswSettings#quantization()}): the stored rows, or codes of
 * one of Lucene's optimized scalar quantizations (the encodings of {@code Lucene104ScalarQuantizedVectorsFormat},
 * scored by {@code Lucene104ScalarQuantizedVectorScorer}). With codes, the walk's candidates (the search beam's worth)
 * are rescored with the rows' exact cosines before the best k are kept; the graph itself is always built from the
 * rows (the codes only make the search cheaper).
 *
 * <p>Which to pick (measured at 100k x 384, recall@10 0.95, one query thread, 2-core AVX-512 VM; docs/PERFORMANCE.md):
 * {@link #INT8} and {@link #INT4} answered 1.29-1.45x the searches per second of {@link #NONE} (the better of the two
 * 1.37-1.45x), at about 400 and 200 extra bytes a row (the F32 rows stay, for the rescoring); {@link #BINARY} needed
 * a beam of 80 and was the slowest.
 * We expect (a model) more gain where the rows do not fit in the caches and less where they do. On a backend that
 * does not declare {@code codeDotRows} (the GPU and FPGA backends today) the codes are scored by Lucene's own scorer,
 * which was about 0.7x {@link #NONE}.
 */
public enum HnswQuantization {
    /** The rows as stored, scored by the backend's {@code dotRows}. */
    NONE(null),
    /** 8 bits per dimension ({@code UNSIGNED_BYTE}): d bytes and 16 bytes of corrections per row. */
    INT8(ScalarEncoding.UNSIGNED_BYTE),
    /** 4 bits per dimension ({@code PACKED_NIBBLE}): d / 2 bytes and 16 bytes of corrections per row. */
    INT4(ScalarEncoding.PACKED_NIBBLE),
    /**
     * 1 bit per dimension, the query at 4 bits ({@code SINGLE_BIT_QUERY_NIBBLE}, Lucene's binary quantization):
     * d / 8 bytes and 16 bytes of corrections per row.
     */
    BINARY(ScalarEncoding.SINGLE_BIT_QUERY_NIBBLE);

    private final ScalarEncoding encoding;

    HnswQuantization(ScalarEncoding encoding) {
        this.encoding = encoding;
    }

    /** Lucene's encoding, or null for {@link #NONE}. */
    ScalarEncoding encoding() {
        return encoding;
    }
}
