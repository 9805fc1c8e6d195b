package dev.mempipe.langchain4j;

/** Argument checks shared by the retrievers, so that bad settings fail with the same kind of message. */
final class RetrieverArgs {
    private RetrieverArgs() {
    }

    static int maxResults(int maxResults) {
        if (maxResults < 1) {
            throw new IllegalArgumentException("maxResults must be >= 1, got " + maxResults);
        }
        return maxResults;
    }

    /** A cosine-like score threshold: LangChain4j's search requests accept only {@code [0, 1]}. */
    static double unitMinScore(double minScore) {
        if (!(minScore >= 0 && minScore <= 1)) {
            throw new IllegalArgumentException("minScore must be in [0, 1], got " + minScore);
        }
        return minScore;
    }

    /** An unbounded score threshold (BM25): finite and not negative. */
    static double minScore(double minScore) {
        if (!(minScore >= 0) || Double.isInfinite(minScore)) {
            throw new IllegalArgumentException("minScore must be finite and >= 0, got " + minScore);
        }
        return minScore;
    }
}
