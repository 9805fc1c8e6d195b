package dev.mempipe.goldentests;

import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.OpArgs;
import dev.mempipe.spi.PoolMode;
import dev.mempipe.spi.PrepareOps;
import dev.mempipe.spi.Tensor;

import java.util.Arrays;

/** Stage 1 of the scalar oracle. */
final class ScalarPrepareOps implements PrepareOps {
    private final Capabilities caps;
    private final ScalarState state;

    ScalarPrepareOps(Capabilities caps, ScalarState state) {
        this.caps = caps;
        this.state = state;
    }

    @Override
    public void pageMinMax(Tensor keys, int pageSize, Tensor min, Tensor max) {
        state.ensureOpen("pageMinMax");
        OpArgs.pageMinMax(caps, keys, pageSize, min, max);
        updatePages(keys, 0, pageSize, min, max);
    }

    @Override
    public void pageMinMaxAppend(Tensor keys, long fromRow, int pageSize, Tensor min, Tensor max) {
        state.ensureOpen("pageMinMax");
        OpArgs.pageMinMaxAppend(caps, keys, fromRow, pageSize, min, max);
        updatePages(keys, fromRow, pageSize, min, max);
    }

    /**
     * Brings every page holding a row {@code >= fromRow} up to date: a page that already summarizes rows
     * before {@code fromRow} starts from its stored min/max, a new page from its first row.
     */
    private static void updatePages(Tensor keys, long fromRow, int pageSize, Tensor min, Tensor max) {
        long length = keys.rows();
        int d = keys.cols();
        for (long p = fromRow / pageSize; p * pageSize < length; p++) {
            long start = p * pageSize;
            long end = Math.min(start + pageSize, length);
            boolean hasOldRows = start < fromRow;
            long first = hasOldRows ? fromRow : start;
            for (int c = 0; c < d; c++) {
                float lo = hasOldRows ? min.get(p, c) : Float.POSITIVE_INFINITY;
                float hi = hasOldRows ? max.get(p, c) : Float.NEGATIVE_INFINITY;
                for (long r = first; r < end; r++) {
                    float x = keys.get(r, c);
                    lo = Math.min(lo, x);
                    hi = Math.max(hi, x);
                }
                min.set(p, c, lo);
                max.set(p, c, hi);
            }
        }
    }

    @Override
    public void pagePool(Tensor keys, int pageSize, PoolMode mode, Tensor out) {
        state.ensureOpen("pagePool");
        OpArgs.pagePool(caps, keys, pageSize, mode, out);
        long length = keys.rows();
        for (long p = 0; p * pageSize < length; p++) {
            long start = p * pageSize;
            long end = Math.min(start + pageSize, length);
            for (int c = 0; c < keys.cols(); c++) {
                double acc = switch (mode) {
                    case MEAN -> 0;
                    case MAX -> Double.NEGATIVE_INFINITY;
                    case MIN -> Double.POSITIVE_INFINITY;
                };
                for (long r = start; r < end; r++) {
                    double x = keys.get(r, c);
                    acc = switch (mode) {
                        case MEAN -> acc + x;
                        case MAX -> Math.max(acc, x);
                        case MIN -> Math.min(acc, x);
                    };
                }
                // MEAN divides by the page's own row count: the last page may be partial.
                ScalarMath.store(out, p, c, mode == PoolMode.MEAN ? acc / (end - start) : acc);
            }
        }
    }

    @Override
    public void project(Tensor x, Tensor w, Tensor y) {
        state.ensureOpen("project");
        OpArgs.project(caps, x, w, y);
        for (long j = 0; j < x.rows(); j++) {
            for (int o = 0; o < w.rows(); o++) {
                ScalarMath.store(y, j, o, ScalarMath.dot(x, j, w, o));
            }
        }
    }

    @Override
    public void quantize(Tensor x, Tensor q) {
        state.ensureOpen("quantize");
        OpArgs.quantize(caps, x, q);
        quantizeRows(x, q);
    }

    /** The contract's symmetric per-row quantization (shared by quantize and convert). */
    private static void quantizeRows(Tensor x, Tensor q) {
        int maxCode = q.type().maxCode();
        for (long r = 0; r < x.rows(); r++) {
            float[] row = new float[x.cols()];
            float maxAbs = 0;
            for (int c = 0; c < row.length; c++) {
                row[c] = x.get(r, c);
                maxAbs = Math.max(maxAbs, Math.abs(row[c]));
            }
            // f32 division, as the contract states; a zero row gets scale 0 and (via quantizeCode) zero codes
            float scale = maxAbs / maxCode;
            q.setScale(r, scale);
            for (int c = 0; c < row.length; c++) {
                q.setCode(r, c, Tensor.quantizeCode(row[c], scale, maxCode));
            }
        }
    }

    @Override
    public void dequantize(Tensor q, Tensor y) {
        state.ensureOpen("dequantize");
        OpArgs.dequantize(caps, q, y);
        copyDecoded(q, y);
    }

    @Override
    public void convert(Tensor x, Tensor y) {
        state.ensureOpen("convert");
        OpArgs.convert(caps, x, y);
        if (y.type().isQuantized()) {
            quantizeRows(x, y);
        } else {
            copyDecoded(x, y);
        }
    }

    /** Decodes every element to f32 and stores it (rounding to nearest even for F16/BF16). */
    private static void copyDecoded(Tensor x, Tensor y) {
        for (long r = 0; r < x.rows(); r++) {
            for (int c = 0; c < x.cols(); c++) {
                y.set(r, c, x.get(r, c));
            }
        }
    }

    @Override
    public void l2Normalize(Tensor x, Tensor y) {
        state.ensureOpen("l2Normalize");
        OpArgs.l2Normalize(caps, x, y);
        for (long r = 0; r < x.rows(); r++) {
            double[] row = ScalarMath.row(x, r);
            double sumSquares = 0;
            for (double v : row) {
                sumSquares += v * v;
            }
            double norm = Math.sqrt(sumSquares);
            for (int c = 0; c < row.length; c++) {
                ScalarMath.store(y, r, c, norm == 0 ? 0 : row[c] / norm);
            }
        }
    }

    @Override
    public void rope(Tensor x, Indices positions, float theta, Tensor y) {
        state.ensureOpen("rope");
        OpArgs.rope(caps, x, positions, theta, y);
        int d = x.cols();
        for (long r = 0; r < x.rows(); r++) {
            double[] row = ScalarMath.row(x, r);
            long pos = positions.get((int) r);
            for (int i = 0; i < d / 2; i++) {
                double angle = pos * Math.pow(theta, -2.0 * i / d);
                double cos = Math.cos(angle);
                double sin = Math.sin(angle);
                double x0 = row[2 * i];
                double x1 = row[2 * i + 1];
                ScalarMath.store(y, r, 2 * i, x0 * cos - x1 * sin);
                ScalarMath.store(y, r, 2 * i + 1, x0 * sin + x1 * cos);
            }
        }
    }

    @Override
    public Bm25Index bm25Index(Indices offsets, Indices tokens) {
        state.ensureOpen("bm25Index");
        OpArgs.bm25Index(caps, offsets, tokens);
        int numDocs = offsets.length() - 1;
        int[] docLengths = new int[numDocs];
        int vocabulary = 0;
        for (int i = 0; i < offsets.get(numDocs); i++) {
            vocabulary = Math.max(vocabulary, tokens.get(i) + 1);
        }
        // tf[doc][term] as sorted per-document term lists: small inputs, clarity over speed
        int[][] docTerms = new int[numDocs][];
        int[] docFreq = new int[vocabulary];
        for (int doc = 0; doc < numDocs; doc++) {
            int from = offsets.get(doc);
            int to = offsets.get(doc + 1);
            docLengths[doc] = to - from;
            int[] terms = new int[to - from];
            for (int i = from; i < to; i++) {
                terms[i - from] = tokens.get(i);
            }
            Arrays.sort(terms);
            docTerms[doc] = terms;
            for (int i = 0; i < terms.length; i++) {
                if (i == 0 || terms[i] != terms[i - 1]) {
                    docFreq[terms[i]]++;
                }
            }
        }
        int[] postingOffsets = new int[vocabulary + 1];
        for (int t = 0; t < vocabulary; t++) {
            postingOffsets[t + 1] = postingOffsets[t] + docFreq[t];
        }
        int[] postingDocs = new int[postingOffsets[vocabulary]];
        int[] postingTfs = new int[postingDocs.length];
        int[] next = Arrays.copyOf(postingOffsets, vocabulary);
        // documents in ascending order, so each term's postings come out ascending by document
        for (int doc = 0; doc < numDocs; doc++) {
            int[] terms = docTerms[doc];
            for (int i = 0; i < terms.length; ) {
                int j = i;
                while (j < terms.length && terms[j] == terms[i]) {
                    j++;
                }
                int slot = next[terms[i]]++;
                postingDocs[slot] = doc;
                postingTfs[slot] = j - i;
                i = j;
            }
        }
        return new Bm25Index(docLengths, docFreq, postingOffsets, postingDocs, postingTfs);
    }
}
