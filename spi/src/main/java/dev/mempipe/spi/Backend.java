package dev.mempipe.spi;

/**
 * An implementation of the op contract: the CPU reference, a GPU, an FPGA. Ops come in four families, one
 * per pipeline step, plus the {@link #fused() fused} compositions every backend has; a backend that does not
 * run an op declares so in {@link #capabilities()} and throws {@link UnsupportedOperationException} if it is
 * called anyway (extend {@link PartialBackend} to get that for every op you do not write).
 *
 * <p>Data a device reads on every call (key memories, page summaries, BM25 indexes) is {@link #pin pinned}
 * once and refreshed when rows are appended; the host copy stays authoritative. A device reports what it
 * moved and how long it computed through {@link #counters()}, what it is through {@link #deviceDescription()},
 * and how it failed through {@link BackendException#fault()}.
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

    /**
     * The hardware behind this backend for the planner's cost model; {@link DeviceDescription#unknown} (the
     * default) makes the engine calibrate it with the ops it declares.
     */
    default DeviceDescription deviceDescription() {
        return DeviceDescription.unknown(name());
    }

    /**
     * Holds {@code host} on this backend's device until the returned handle is closed; ops given the handle's
     * {@link PinnedTensor#tensor()} (or views of it) read the device copy instead of uploading the host
     * memory. The default, for backends that read host memory directly (the CPU), is the identity: nothing is
     * copied and the tensor is returned as it is.
     *
     * @throws BackendException when the device cannot hold it (the message names the bytes and the capacity)
     */
    default PinnedTensor pin(Tensor host) {
        return HostPins.tensor(this, host);
    }

    /** As {@link #pin(Tensor)} for a BM25 index (immutable: nothing to refresh). */
    default PinnedBm25Index pin(Bm25Index index) {
        return HostPins.index(this, index);
    }

    /** The fused ops; the default composes this backend's own ops as {@link FusedOps} defines them. */
    default FusedOps fused() {
        return () -> this;
    }

    /**
     * Running totals of transfers, device time and device energy for the calling thread; the default
     * (the CPU) moves nothing and meters nothing.
     */
    default DeviceCounters counters() {
        return DeviceCounters.NONE;
    }

    PrepareOps prepare();

    RelevancyOps relevancy();

    RetrievalOps retrieval();

    ApplyOps apply();

    /**
     * The parametric-memory ops (Titans, LaCT); the default, for backends without them, throws
     * {@link UnsupportedOperationException} from every op (declare them in {@link #capabilities()} only when
     * overriding this).
     */
    default TrainOps train() {
        return TrainOps.unsupported(name());
    }

    /** Releases what the backend holds; the default holds nothing. Idempotent. */
    @Override
    default void close() {
    }
}
