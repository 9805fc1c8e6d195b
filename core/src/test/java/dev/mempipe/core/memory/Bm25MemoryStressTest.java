package dev.mempipe.core.memory;

import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.Bm25Params;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

import static dev.mempipe.core.memory.StressRace.check;

/**
 * {@link Bm25Memory} under one writer appending documents while two readers do, in turn, what lexical RAG does:
 * {@code search} (the index rebuilt lazily, {@code bm25Score}, {@code topK}), {@code scores}, and {@code index()}
 * itself. Every read is checked against the serial model, the documents appended so far: at a document count the
 * memory published between the reader's looks before and after,
 * <ul>
 *   <li>an index holds exactly the first N documents: N, every document's length, the average length, every term's
 *       document frequency and postings (documents and term frequencies) are the model's (never a document counted
 *       before its tokens, never statistics of some documents but not others);</li>
 *   <li>scores are the model's BM25 (from the model's N, df and average length, in double) within rounding to
 *       f32;</li>
 *   <li>a search returns {@code min(k, N)} distinct documents below N, each with its model score, best first (equal
 *       scores: lower id first), none left out that scores above the last one returned.</li>
 * </ul>
 * Documents have 0 to 14 terms drawn with a skew over a small vocabulary (so document frequencies vary and many
 * scores tie); queries repeat terms and name terms no document has. Seeded and scaled as {@link StressRace} says.
 */
class Bm25MemoryStressTest {
    private static final int VOCABULARY = 40;
    private static final int K = 5;
    private static final int QUERIES = 8;
    private static final Bm25Params PARAMS = Bm25Params.DEFAULT;

    @Test
    void every_search_score_and_index_should_equal_the_serial_model_at_one_published_count() throws Exception {
        int count = 700 * StressRace.SCALE;
        SplittableRandom random = new SplittableRandom(StressRace.SEED + 3);
        int[][] documents = new int[count][];
        int tokens = 0;
        for (int d = 0; d < count; d++) {
            documents[d] = terms(random, random.nextInt(15));
            tokens += documents[d].length;
        }
        int[][] queries = new int[QUERIES][];
        for (int q = 0; q < QUERIES; q++) {
            queries[q] = terms(random, 1 + random.nextInt(4));
            queries[q][0] = q == 0 ? VOCABULARY + 3 : queries[q][0]; // a term no document has
        }
        StressRace.Plan plan = StressRace.Plan.ones(count);
        System.out.println("Bm25MemoryStressTest: " + count + " documents, " + tokens + " terms; "
                + StressRace.reproduce(getClass()));
        AtomicLong reads = new AtomicLong();
        try (Arena arena = Arena.ofShared(); var memory = new Bm25Memory(arena, MemoryTesting.engine(), count,
                Math.max(1, tokens))) {
            StressRace.Result result = StressRace.run("Bm25Memory", plan,
                    doc -> memory.append(documents[doc]),
                    memory::documentCount,
                    () -> {
                        long read = reads.getAndIncrement();
                        int[] query = queries[(int) (read % QUERIES)];
                        return switch ((int) (read % 3)) {
                            case 0 -> searchAndCheck(memory, plan, documents, query);
                            case 1 -> scoreAndCheck(memory, plan, documents, query);
                            default -> indexAndCheck(memory, plan, documents);
                        };
                    });
            System.out.println("Bm25MemoryStressTest: " + result);
        }
    }

    private static boolean searchAndCheck(Bm25Memory memory, StressRace.Plan plan, int[][] documents, int[] query) {
        int before = memory.documentCount();
        Hits hits = memory.search(query, K, PARAMS);
        int after = memory.documentCount();
        String problem = "no count";
        for (long n = before; n <= after && problem != null; n++) {
            problem = mismatch(hits, new Model(documents, (int) n).scores(query), (int) n);
        }
        check(problem == null, "a search between counts " + before + " and " + after + " equals the model at none of "
                + "them: " + problem + "; hits " + hits);
        return before != after;
    }

    private static boolean scoreAndCheck(Bm25Memory memory, StressRace.Plan plan, int[][] documents, int[] query) {
        int before = memory.documentCount();
        float[] scores = memory.scores(query, PARAMS);
        int after = memory.documentCount();
        int n = scores.length;
        StressRace.window(plan, before, n, after, "scores");
        double[] model = new Model(documents, n).scores(query);
        for (int d = 0; d < n; d++) {
            check(Math.abs(scores[d] - model[d]) <= tolerance(model[d]), "document " + d + " scored " + scores[d]
                    + ", the model says " + model[d] + " at count " + n);
        }
        return before != after;
    }

    private static boolean indexAndCheck(Bm25Memory memory, StressRace.Plan plan, int[][] documents) {
        int before = memory.documentCount();
        Bm25Index index = memory.index();
        int after = memory.documentCount();
        int n = index.numDocs();
        StressRace.window(plan, before, n, after, "an index");
        Model model = new Model(documents, n);
        String at = " at count " + n;
        check(index.avgDocLength() == model.averageLength, "average length " + index.avgDocLength() + ", the "
                + "model's " + model.averageLength + at);
        for (int d = 0; d < n; d++) {
            check(index.docLength(d) == documents[d].length, "document " + d + " has length " + index.docLength(d)
                    + ", appended " + documents[d].length + at);
        }
        for (int t = 0; t <= VOCABULARY + 4; t++) {
            check(index.docFreq(t) == model.documentFrequency[t], "term " + t + " is in " + index.docFreq(t)
                    + " documents, the model says " + model.documentFrequency[t] + at);
            int posting = index.postingStart(t);
            for (int d = 0; d < n; d++) {
                int tf = model.termFrequency(d, t);
                if (tf > 0) {
                    check(posting < index.postingEnd(t) && index.postingDocs()[posting] == d
                                    && index.postingTfs()[posting] == tf,
                            "term " + t + "'s postings do not list document " + d + " with frequency " + tf + at);
                    posting++;
                }
            }
            check(posting == index.postingEnd(t), "term " + t + " has postings past the model's" + at);
        }
        return before != after;
    }

    /** Why {@code hits} is not the model's top k at count n; null when it is. */
    private static String mismatch(Hits hits, double[] model, int n) {
        int expected = Math.min(K, n);
        if (hits.size() != expected) {
            return hits.size() + " hits, " + expected + " expected at count " + n;
        }
        Set<Integer> ids = new HashSet<>();
        for (int rank = 0; rank < hits.size(); rank++) {
            int id = hits.id(rank);
            if (id < 0 || id >= n || !ids.add(id)) {
                return "document " + id + " is not held at count " + n + " or repeated";
            }
            if (Math.abs(hits.score(rank) - model[id]) > tolerance(model[id])) {
                return "document " + id + " scored " + hits.score(rank) + ", the model says " + model[id];
            }
            if (rank > 0 && (hits.score(rank) > hits.score(rank - 1)
                    || hits.score(rank) == hits.score(rank - 1) && id < hits.id(rank - 1))) {
                return "not best first (equal scores: lower id first) at rank " + rank;
            }
        }
        double last = hits.size() == 0 ? Double.POSITIVE_INFINITY : model[hits.id(hits.size() - 1)];
        for (int d = 0; d < n; d++) {
            if (!ids.contains(d) && model[d] > last + tolerance(last)) {
                return "document " + d + " scores " + model[d] + ", above the last hit's " + last;
            }
        }
        return null;
    }

    /** Scores are computed in double and stored rounded to f32. */
    private static double tolerance(double score) {
        return 0x1p-22 * Math.abs(score) + 1e-30;
    }

    /** Term ids with a skew towards small ids (frequent terms), repeats allowed. */
    private static int[] terms(SplittableRandom random, int length) {
        int[] terms = new int[length];
        for (int i = 0; i < length; i++) {
            terms[i] = random.nextInt(1 + random.nextInt(VOCABULARY));
        }
        return terms;
    }

    /** The serial model: BM25 over the first n documents, from their terms alone. */
    private static final class Model {
        private final int[][] documents;
        private final int n;
        private final int[] documentFrequency = new int[VOCABULARY + 5];
        private final double averageLength;

        Model(int[][] documents, int n) {
            this.documents = documents;
            this.n = n;
            long total = 0;
            for (int d = 0; d < n; d++) {
                total += documents[d].length;
                for (int t : distinct(documents[d])) {
                    documentFrequency[t]++;
                }
            }
            this.averageLength = n == 0 ? 0 : (double) total / n;
        }

        int termFrequency(int doc, int term) {
            int tf = 0;
            for (int t : documents[doc]) {
                tf += t == term ? 1 : 0;
            }
            return tf;
        }

        double[] scores(int[] query) {
            double[] scores = new double[n];
            double k1 = PARAMS.k1();
            double b = PARAMS.b();
            for (int term : distinct(query)) {
                int df = term < documentFrequency.length ? documentFrequency[term] : 0;
                if (df == 0) {
                    continue;
                }
                double idf = PARAMS.idf().idf(n, df);
                for (int d = 0; d < n; d++) {
                    int tf = termFrequency(d, term);
                    if (tf > 0) {
                        double norm = 1 - b + b * documents[d].length / averageLength;
                        scores[d] += idf * tf * (k1 + 1) / (tf + k1 * norm);
                    }
                }
            }
            return scores;
        }

        private static Set<Integer> distinct(int[] terms) {
            Set<Integer> set = new HashSet<>();
            for (int t : terms) {
                set.add(t);
            }
            return set;
        }
    }
}
