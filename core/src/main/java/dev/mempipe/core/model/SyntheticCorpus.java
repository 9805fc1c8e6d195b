package dev.mempipe.core.model;

import java.util.SplittableRandom;

/**
 * Seeded documents and queries of term ids for the BM25 workload. Term ids are log-uniform over the
 * vocabulary ({@code floor(V^u)} for uniform u), a cheap stand-in for Zipf's law: a few terms are in most
 * documents, most terms in few, so postings lists have the skew real text gives them.
 */
final class SyntheticCorpus {
    /** Vocabulary of the synthetic corpus. */
    static final int VOCABULARY = 50_000;
    static final int MIN_DOCUMENT_TOKENS = 64;
    static final int MAX_DOCUMENT_TOKENS = 192;
    static final int QUERY_TERMS = 4;

    private SyntheticCorpus() {
    }

    /** Documents {@code [first, first + count)} of the corpus {@code seed}. */
    static int[][] documents(long seed, int first, int count) {
        return documents(seed, first, count, VOCABULARY);
    }

    /** As {@link #documents(long, int, int)} with term ids in {@code [0, vocabulary)} (a model's token ids). */
    static int[][] documents(long seed, int first, int count, int vocabulary) {
        int[][] docs = new int[count][];
        for (int i = 0; i < count; i++) {
            SplittableRandom random = SeededFill.rowRandom(seed, first + i);
            int[] doc = new int[random.nextInt(MIN_DOCUMENT_TOKENS, MAX_DOCUMENT_TOKENS + 1)];
            for (int t = 0; t < doc.length; t++) {
                doc[t] = term(random, vocabulary);
            }
            docs[i] = doc;
        }
        return docs;
    }

    /** {@code n} terms of the corpus's distribution over {@code [0, vocabulary)} (a prompt of token ids). */
    static int[] terms(long seed, int n, int vocabulary) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] terms = new int[n];
        for (int i = 0; i < n; i++) {
            terms[i] = term(random, vocabulary);
        }
        return terms;
    }

    /** The query of decode step {@code step}. */
    static int[] query(long seed, long step) {
        SplittableRandom random = SeededFill.rowRandom(SeededFill.derive(seed, 77), step);
        int[] terms = new int[QUERY_TERMS];
        for (int i = 0; i < terms.length; i++) {
            terms[i] = term(random, VOCABULARY);
        }
        return terms;
    }

    private static int term(SplittableRandom random, int vocabulary) {
        return Math.min(vocabulary - 1, (int) Math.pow(vocabulary, random.nextDouble()) - 1);
    }
}
