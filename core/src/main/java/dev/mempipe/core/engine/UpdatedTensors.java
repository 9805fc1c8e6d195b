package dev.mempipe.core.engine;

import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A host copy of the tensors an in-place step updates, taken before the step runs on a device and written back
 * before the engine reruns it on the CPU: a device that wrote part of an update and then failed leaves state the
 * rerun must not build on (see {@link Engine#runInPlace}). Copies exactly the elements of each view (row by row, so
 * a column band leaves its neighbours alone) and, for integer tensors, their row scales.
 *
 * <p>Not thread-safe: one step's thread takes, restores and closes it.
 */
final class UpdatedTensors implements AutoCloseable {
    private final List<Tensor> tensors;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment copy;

    private UpdatedTensors(List<Tensor> tensors) {
        this.tensors = tensors;
        long bytes = 0;
        for (Tensor t : tensors) {
            bytes = Math.addExact(bytes, bytesOf(t));
        }
        this.copy = arena.allocate(Math.max(1, bytes), 64);
    }

    /** Copies {@code tensors} now. */
    static UpdatedTensors take(List<Tensor> tensors) {
        UpdatedTensors saved = new UpdatedTensors(tensors);
        try {
            saved.transfer(true);
        } catch (RuntimeException | Error e) {
            saved.close();
            throw e;
        }
        return saved;
    }

    /** Writes the copy back over the tensors, as they were when it was taken. */
    void restore() {
        transfer(false);
    }

    @Override
    public void close() {
        arena.close();
    }

    private void transfer(boolean save) {
        long at = 0;
        for (Tensor t : tensors) {
            long rowBytes = (long) t.cols() * t.type().byteSize();
            for (long r = 0; r < t.rows(); r++) {
                if (save) {
                    MemorySegment.copy(t.data(), t.offset(r, 0), copy, at, rowBytes);
                } else {
                    MemorySegment.copy(copy, at, t.data(), t.offset(r, 0), rowBytes);
                }
                at += rowBytes;
            }
            if (t.scales() != null && t.rows() > 0) {
                long scaleBytes = t.rows() * Float.BYTES;
                if (save) {
                    MemorySegment.copy(t.scales(), 0, copy, at, scaleBytes);
                } else {
                    MemorySegment.copy(copy, at, t.scales(), 0, scaleBytes);
                }
                at += scaleBytes;
            }
        }
    }

    private static long bytesOf(Tensor t) {
        long data = Math.multiplyExact(t.rows(), (long) t.cols() * t.type().byteSize());
        return t.scales() == null ? data : Math.addExact(data, t.rows() * Float.BYTES);
    }
}
