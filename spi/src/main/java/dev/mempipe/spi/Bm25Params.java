package dev.mempipe.spi;

/**
 * BM25 scoring parameters.
 *
 * @param k1  term-frequency saturation, {@code >= 0}; 1.2 is customary
 * @param b   length normalization in {@code [0, 1]}; 0.75 is customary, 0 turns it off
 * @param idf the idf variant
 */
public record Bm25Params(float k1, float b, Bm25Idf idf) {

    /** k1 = 1.2, b = 0.75, Lucene idf. */
    public static final Bm25Params DEFAULT = new Bm25Params(1.2f, 0.75f, Bm25Idf.LUCENE);

    /** The published FPGA kernel's scoring: k1 = 1.2, no length normalization, classic idf. */
    public static final Bm25Params FPGA_KERNEL = new Bm25Params(1.2f, 0f, Bm25Idf.CLASSIC);

    public Bm25Params {
        if (!(k1 >= 0) || Float.isInfinite(k1)) {
            throw new IllegalArgumentException("k1 must be finite and >= 0, got " + k1);
        }
        if (!(b >= 0 && b <= 1)) {
            throw new IllegalArgumentException("b must be in [0, 1], got " + b);
        }
        if (idf == null) {
            throw new IllegalArgumentException("idf must not be null");
        }
    }
}
