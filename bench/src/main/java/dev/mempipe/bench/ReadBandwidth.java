package dev.mempipe.bench;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The baseline every memory-bound figure is divided by: a read-only SIMD sum over a segment, split over all
 * cores. It does the least work per byte a scan can do, so it measures what the memory system delivers.
 */
final class ReadBandwidth implements AutoCloseable {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private final ExecutorService pool;
    private final int threads;

    ReadBandwidth() {
        threads = Runtime.getRuntime().availableProcessors();
        pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "bandwidth-baseline");
            t.setDaemon(true);
            return t;
        });
    }

    /** Sums every float of {@code segs} (each a multiple of 64 bytes), all cores; returns the sum. */
    float sum(MemorySegment... segs) {
        List<Future<Float>> parts = new ArrayList<>();
        for (MemorySegment seg : segs) {
            long bytes = seg.byteSize();
            long chunk = (bytes / threads + 63) / 64 * 64;
            for (long from = 0; from < bytes; from += chunk) {
                long start = from;
                long end = Math.min(bytes, from + chunk);
                parts.add(pool.submit(() -> sumRange(seg, start, end)));
            }
        }
        float total = 0;
        try {
            for (Future<Float> f : parts) {
                total += f.get();
            }
        } catch (InterruptedException | ExecutionException e) {
            throw new IllegalStateException(e);
        }
        return total;
    }

    /**
     * Sums {@code seg} (a multiple of 64 bytes) as {@link #sum} does, but each core reads its half as four sequential
     * streams side by side (the access pattern of the row-blocked scan kernels). On a machine whose prefetchers or
     * cache serve several streams per core faster than one, this is the higher, stricter read rate.
     */
    float sumFourStreams(MemorySegment seg) {
        List<Future<Float>> parts = new ArrayList<>();
        long bytes = seg.byteSize();
        long chunk = (bytes / threads + 255) / 256 * 256;
        for (long from = 0; from < bytes; from += chunk) {
            long start = from;
            long end = Math.min(bytes, from + chunk);
            parts.add(pool.submit(() -> sumFourStreams(seg, start, end)));
        }
        float total = 0;
        try {
            for (Future<Float> f : parts) {
                total += f.get();
            }
        } catch (InterruptedException | ExecutionException e) {
            throw new IllegalStateException(e);
        }
        return total;
    }

    private static float sumFourStreams(MemorySegment seg, long from, long to) {
        int step = F.vectorByteSize();
        long quarter = (to - from) / 4 / step * step;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        for (long at = 0; at < quarter; at += step) {
            a0 = a0.add(FloatVector.fromMemorySegment(F, seg, from + at, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(FloatVector.fromMemorySegment(F, seg, from + quarter + at, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(FloatVector.fromMemorySegment(F, seg, from + 2 * quarter + at, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(FloatVector.fromMemorySegment(F, seg, from + 3 * quarter + at, ByteOrder.LITTLE_ENDIAN));
        }
        float tail = sumRange(seg, from + 4 * quarter, to);
        return a0.add(a1).add(a2).add(a3).reduceLanes(VectorOperators.ADD) + tail;
    }

    private static float sumRange(MemorySegment seg, long from, long to) {
        int step = F.vectorByteSize();
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        long at = from;
        for (; at + 4L * step <= to; at += 4L * step) {
            a0 = a0.add(FloatVector.fromMemorySegment(F, seg, at, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(FloatVector.fromMemorySegment(F, seg, at + step, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(FloatVector.fromMemorySegment(F, seg, at + 2L * step, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(FloatVector.fromMemorySegment(F, seg, at + 3L * step, ByteOrder.LITTLE_ENDIAN));
        }
        for (; at + step <= to; at += step) {
            a0 = a0.add(FloatVector.fromMemorySegment(F, seg, at, ByteOrder.LITTLE_ENDIAN));
        }
        return a0.add(a1).add(a2).add(a3).reduceLanes(VectorOperators.ADD);
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
