package dev.mempipe.goldentests.example;

import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.NaNInputException;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.OpArgs;
import dev.mempipe.spi.PartialBackend;
import dev.mempipe.spi.Tensor;

import java.util.Arrays;
import java.util.EnumSet;

/**
 * The README's "Testing your backend" example: a float-only backend that runs three ops. Every other op throws
 * UnsupportedOperationException (PartialBackend) and the kit reports its tests as skipped. Stateless, so safe
 * for concurrent use; ops after close() fail (checkOpen).
 */
public final class ThreeOpBackend extends PartialBackend {
    public ThreeOpBackend() {
        super("three-op", Capabilities.builder()
                .ops(EnumSet.of(Op.DOT, Op.TOP_K, Op.GATHER), EnumSet.of(ElementType.F32)).build());
    }

    @Override
    public void dot(Tensor q, Tensor m, Tensor s) {
        checkOpen();
        OpArgs.dot(capabilities(), q, m, s); // shapes, types, limits, closed memory: rejected before writing
        for (long j = 0; j < q.rows(); j++) {
            for (int i = 0; i < m.rows(); i++) {
                double sum = 0;
                for (int c = 0; c < q.cols(); c++) {
                    sum += (double) q.get(j, c) * m.get(i, c);
                }
                s.set(j, i, (float) sum);
            }
        }
    }

    @Override
    public int topK(Tensor s, int k, Indices idx, Tensor val) {
        checkOpen();
        OpArgs.topK(capabilities(), s, k, idx, val);
        int n = s.cols();
        int count = Math.min(k, n);
        for (long r = 0; r < s.rows(); r++) { // every row checked before anything is written
            for (int i = 0; i < n; i++) {
                if (Float.isNaN(s.get(r, i))) {
                    throw new NaNInputException("s", r * n + i);
                }
            }
        }
        for (long r = 0; r < s.rows(); r++) {
            long[] best = new long[count]; // the count best (score, index) keys so far, ascending
            int size = 0;
            for (int i = 0; i < n; i++) {
                long key = key(s.get(r, i), i);
                if (size < count || key < best[count - 1]) {
                    int at = Arrays.binarySearch(best, 0, size, key);
                    at = at < 0 ? -at - 1 : at;
                    System.arraycopy(best, at, best, at + 1, Math.min(size, count - 1) - at);
                    best[at] = key;
                    size = Math.min(count, size + 1);
                }
            }
            for (int j = 0; j < count; j++) { // row r's results at idx[r*count, (r+1)*count): nothing past them
                idx.set((int) (r * count + j), (int) best[j]);
                if (val != null) {
                    val.set(r, j, s.get(r, (int) best[j]));
                }
            }
        }
        return count;
    }

    /** Sorts ascending as the contract's order: score descending (-0.0 == +0.0), then index ascending. */
    private static long key(float score, int index) {
        int bits = Float.floatToIntBits(score == 0f ? 0f : score);
        int ascending = bits ^ ((bits >> 31) & 0x7FFF_FFFF);
        return ((long) ~ascending << 32) | index;
    }

    @Override
    public void gather(Tensor x, Indices idx, Tensor y) {
        checkOpen();
        OpArgs.gather(capabilities(), x, idx, y); // rejects an index outside [0, n) before copying anything
        long rowBytes = (long) x.cols() * x.type().byteSize();
        for (int j = 0; j < idx.length(); j++) {
            java.lang.foreign.MemorySegment.copy(x.data(), x.offset(idx.get(j), 0), y.data(), y.offset(j, 0),
                    rowBytes);
        }
    }
}
