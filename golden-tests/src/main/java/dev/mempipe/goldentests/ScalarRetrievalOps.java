package dev.mempipe.goldentests;

import dev.mempipe.spi.Bitmap;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.NaNInputException;
import dev.mempipe.spi.OpArgs;
import dev.mempipe.spi.RetrievalOps;
import dev.mempipe.spi.Tensor;

import java.util.Arrays;

/** Stage 3 of the scalar oracle. */
final class ScalarRetrievalOps implements RetrievalOps {
    private final Capabilities caps;
    private final ScalarState state;

    ScalarRetrievalOps(Capabilities caps, ScalarState state) {
        this.caps = caps;
        this.state = state;
    }

    /**
     * The contract's total order of (score, position) pairs: score descending, then position ascending.
     * Negative when {@code a} comes first. Scores must not be NaN.
     */
    static int compareTotalOrder(float sa, int a, float sb, int b) {
        // < and > rather than Float.compare: -0.0 and +0.0 must tie and fall back to the index
        if (sa > sb) {
            return -1;
        }
        if (sa < sb) {
            return 1;
        }
        return Integer.compare(a, b);
    }

    @Override
    public int topK(Tensor s, int k, Indices idx, Tensor val) {
        state.ensureOpen("topK");
        OpArgs.topK(caps, s, k, idx, val);
        int n = s.cols();
        int count = Math.min(k, n);
        for (long r = 0; r < s.rows(); r++) {           // NaN anywhere fails before anything is written
            for (int i = 0; i < n; i++) {
                if (Float.isNaN(s.get(r, i))) {
                    throw new NaNInputException("s", r * n + i);
                }
            }
        }
        for (long r = 0; r < s.rows(); r++) {
            float[] scores = new float[n];
            for (int i = 0; i < n; i++) {
                scores[i] = s.get(r, i);
            }
            Integer[] order = new Integer[n];
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
            Arrays.sort(order, (a, b) -> compareTotalOrder(scores[a], a, scores[b], b));
            for (int j = 0; j < count; j++) {
                idx.set((int) (r * count + j), order[j]);
                if (val != null) {
                    val.set(r, j, scores[order[j]]);
                }
            }
        }
        return count;
    }

    @Override
    public void threshold(Tensor s, float t, Bitmap out) {
        state.ensureOpen("threshold");
        OpArgs.threshold(caps, s, t, out);
        int n = s.cols();
        long total = s.size();
        for (long i = 0; i < total; i++) {
            if (Float.isNaN(s.get(i / n, (int) (i % n)))) {
                throw new NaNInputException("s", i);
            }
        }
        // Whole words are written so the bits past m*n end up 0, as the Bitmap contract says.
        for (long w = 0; w < Bitmap.wordCount(total); w++) {
            long word = 0;
            for (int b = 0; b < 64 && w * 64 + b < total; b++) {
                long i = w * 64 + b;
                if (s.get(i / n, (int) (i % n)) > t) {
                    word |= 1L << b;
                }
            }
            out.setWord(w, word);
        }
    }

    @Override
    public int bitmapToIndices(Bitmap bits, Indices out) {
        state.ensureOpen("bitmapToIndices");
        OpArgs.bitmapToIndices(caps, bits, out);
        int count = 0;
        for (long i = 0; i < bits.length(); i++) {
            if (bits.get(i)) {
                out.set(count++, (int) i);
            }
        }
        return count;
    }

    @Override
    public int expandBlocks(Indices blocks, int blockSize, long length, int sink, int window, Indices out) {
        state.ensureOpen("expandBlocks");
        OpArgs.expandBlocks(caps, blocks, blockSize, length, sink, window, out);
        int tokens = (int) length;
        boolean[] selected = new boolean[tokens];
        for (int i = 0; i < Math.min(sink, tokens); i++) {
            selected[i] = true;
        }
        for (int i = Math.max(0, tokens - window); i < tokens; i++) {
            selected[i] = true;
        }
        for (int j = 0; j < blocks.length(); j++) {
            long start = (long) blocks.get(j) * blockSize;
            long end = Math.min(start + blockSize, tokens);
            for (long i = start; i < end; i++) {
                selected[(int) i] = true;
            }
        }
        int count = 0;
        for (int i = 0; i < tokens; i++) {
            if (selected[i]) {
                out.set(count++, i);
            }
        }
        return count;
    }

    @Override
    public void gather(Tensor x, Indices idx, Tensor y) {
        state.ensureOpen("gather");
        OpArgs.gather(caps, x, idx, y);
        for (int j = 0; j < idx.length(); j++) {
            int r = idx.get(j);
            if (x.type().isQuantized()) {
                y.setScale(j, x.scale(r));
                for (int c = 0; c < x.cols(); c++) {
                    y.setCode(j, c, x.code(r, c));
                }
            } else {
                // raw bytes, not get/set: a bit-exact copy must keep NaN payloads and -0.0 as they are
                long rowBytes = (long) x.cols() * x.type().byteSize();
                y.data().asSlice(y.offset(j, 0), rowBytes).copyFrom(x.data().asSlice(x.offset(r, 0), rowBytes));
            }
        }
    }
}
