package dev.mempipe.core.profile;

/**
 * The work one op (or a group of ops) does: bytes it reads from memory, bytes it writes, and floating-point
 * operations. These are analytic counts from shapes and element types ({@link OpCosts}), not hardware
 * counter readings: they count compulsory traffic (each input byte read once, each output byte written once)
 * and are what a roofline model needs.
 *
 * @param bytesRead    bytes of inputs read, {@code >= 0}
 * @param bytesWritten bytes of outputs written, {@code >= 0}
 * @param flops        floating-point operations (a multiply-add counts 2), {@code >= 0}
 */
public record OpCost(long bytesRead, long bytesWritten, long flops) {
    /** No work at all. */
    public static final OpCost ZERO = new OpCost(0, 0, 0);

    public OpCost {
        if (bytesRead < 0 || bytesWritten < 0 || flops < 0) {
            throw new IllegalArgumentException("op cost must be non-negative, got bytesRead=" + bytesRead
                    + ", bytesWritten=" + bytesWritten + ", flops=" + flops);
        }
    }

    /** The work of this op followed by {@code other}. */
    public OpCost plus(OpCost other) {
        return new OpCost(Math.addExact(bytesRead, other.bytesRead), Math.addExact(bytesWritten, other.bytesWritten),
                Math.addExact(flops, other.flops));
    }

    /** The work of {@code times} repetitions of this op (e.g. once per head). */
    public OpCost times(long times) {
        if (times < 0) {
            throw new IllegalArgumentException("times must be >= 0, got " + times);
        }
        return new OpCost(Math.multiplyExact(bytesRead, times), Math.multiplyExact(bytesWritten, times),
                Math.multiplyExact(flops, times));
    }

    /** Bytes read plus bytes written. */
    public long bytesMoved() {
        return bytesRead + bytesWritten;
    }

    /**
     * Arithmetic intensity, FLOPs per byte moved: positive infinity when there are FLOPs but no bytes, NaN
     * when there is no work at all.
     */
    public double intensity() {
        long bytes = bytesMoved();
        if (bytes == 0) {
            return flops == 0 ? Double.NaN : Double.POSITIVE_INFINITY;
        }
        return (double) flops / bytes;
    }
}
