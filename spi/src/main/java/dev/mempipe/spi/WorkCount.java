package dev.mempipe.spi;

/**
 * The work of one op call as its descriptor's cost formula counts it ({@link OpDescriptor#cost}): compulsory
 * bytes read and written and floating-point operations (a multiply-add counts 2). A model from shapes and
 * element types, not a counter reading; core's {@code OpCost} adds the arithmetic the profiler needs.
 *
 * @param bytesRead    {@code >= 0}
 * @param bytesWritten {@code >= 0}
 * @param flops        {@code >= 0}
 */
public record WorkCount(long bytesRead, long bytesWritten, long flops) {
    public WorkCount {
        if (bytesRead < 0 || bytesWritten < 0 || flops < 0) {
            throw new IllegalArgumentException("work must be non-negative, got bytesRead=" + bytesRead
                    + ", bytesWritten=" + bytesWritten + ", flops=" + flops);
        }
    }
}
