package dev.mempipe.spi;

/**
 * An implementation of the op contract: the CPU reference, a GPU, an FPGA. Ops come in four families, one
 * per pipeline step; a backend that does not run an op declares so in {@link #capabilities()} and throws
 * {@link UnsupportedOperationException} if it is called anyway.
 *
 * <p>Implementations must be safe for concurrent use of their ops from several threads (the CPU backend
 * is); a device backend that serializes calls internally says so. {@link #close()} releases device
 * resources; ops called after it fail with {@link IllegalStateException}.
 */
public interface Backend extends AutoCloseable {

    /** Short stable name used for selection ({@code -Dmempipe.backend=}), e.g. {@code cpu-simd}. */
    String name();

    /** One line describing the running configuration, e.g. {@code cpu-simd(256-bit, fma, 2 threads)}. */
    default String description() {
        return name();
    }

    Capabilities capabilities();

    PrepareOps prepare();

    RelevancyOps relevancy();

    RetrievalOps retrieval();

    ApplyOps apply();

    /** Releases what the backend holds; the default holds nothing. Idempotent. */
    @Override
    default void close() {
    }
}
