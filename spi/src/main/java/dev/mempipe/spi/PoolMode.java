package dev.mempipe.spi;

/** Reduction used by {@code pagePool}. */
public enum PoolMode {
    /** Arithmetic mean over the page's actual rows (a partial last page divides by its own row count). */
    MEAN,
    /** Element-wise maximum. */
    MAX,
    /** Element-wise minimum. */
    MIN
}
