package dev.mempipe.ops;

import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.Bm25Params;
import dev.mempipe.spi.Indices;
import java.util.Arrays;

/**
 * BM25 over the inverted index: each distinct query term walks its postings once and adds its term score to
 * the documents it occurs in, so the cost is the query's postings, not {@code N * q}. Arithmetic is in double
 * (SPEC "Choices": BM25 arithmetic is in double); a document's terms are added in the order the query first
 * names them, the scalar oracle's order, so the two agree to the bit.
 */
final class SimdBm25Scorer {
    private SimdBm25Scorer() {
    }

    /** The BM25 score of every document (length N). */
    static double[] score(Indices query, Bm25Index index, Bm25Params params) {
        int numDocs = index.numDocs();
        double[] scores = new double[numDocs];
        int[] terms = distinct(query.toArray());
        double k1 = params.k1();
        double b = params.b();
        double avgLength = index.avgDocLength();
        int[] docs = index.postingDocs();
        int[] tfs = index.postingTfs();
        int[] lengths = index.docLengths();
        for (int term : terms) {
            int from = index.postingStart(term);
            int to = index.postingEnd(term);
            if (from == to) {
                continue; // a term the index has never seen contributes 0
            }
            double idf = params.idf().idf(numDocs, index.docFreq(term));
            double k1PlusOne = k1 + 1;
            for (int p = from; p < to; p++) {
                int doc = docs[p];
                double tf = tfs[p];
                // b == 0 skips len/avglen entirely: no length normalization, as the FPGA kernel scores
                double norm = b == 0 ? k1 : k1 * (1 - b + b * lengths[doc] / avgLength);
                scores[doc] += idf * tf * k1PlusOne / (tf + norm);
            }
        }
        return scores;
    }

    /** The distinct values of {@code ids} in order of first appearance (a repeated query term counts once). */
    private static int[] distinct(int[] ids) {
        int[] sorted = ids.clone();
        Arrays.sort(sorted);
        boolean[] taken = new boolean[sorted.length];
        int n = 0;
        for (int id : ids) {
            int at = Arrays.binarySearch(sorted, id);
            while (at > 0 && sorted[at - 1] == id) {
                at--; // the first of equal ids marks the id as taken
            }
            if (!taken[at]) {
                taken[at] = true;
                ids[n++] = id;
            }
        }
        return Arrays.copyOf(ids, n);
    }
}
