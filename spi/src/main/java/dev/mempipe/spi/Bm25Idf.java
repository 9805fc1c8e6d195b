package dev.mempipe.spi;

/** Inverse document frequency variants of {@code bm25Score}. */
public enum Bm25Idf {
    /** {@code ln(1 + (N - df + 0.5) / (df + 0.5))}: never negative; Lucene's choice and the default. */
    LUCENE,
    /** {@code ln((N - df + 0.5) / (df + 0.5))}: negative for terms in more than half the documents. */
    CLASSIC;

    /** The idf of a term that occurs in {@code df} of {@code n} documents, in double precision. */
    public double idf(long n, long df) {
        double ratio = (n - df + 0.5) / (df + 0.5);
        return this == LUCENE ? Math.log1p(ratio) : Math.log(ratio);
    }
}
