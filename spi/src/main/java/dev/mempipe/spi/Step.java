package dev.mempipe.spi;

/** The four steps of the memory processing pipeline, in the order a decode step runs them. */
public enum Step {
    /** Turn raw context into a searchable memory. */
    PREPARE,
    /** Score the memory against the current query. */
    RELEVANCY,
    /** Choose what to use: top-k, thresholds, block expansion, gather. */
    RETRIEVAL,
    /** Use it: sparse attention, soft memory reads. */
    APPLY
}
