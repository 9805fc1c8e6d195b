package dev.mempipe.spi;

import java.util.Objects;

/**
 * Base for a backend that runs some ops of the contract: every op rejects the call with
 * {@link UnsupportedOperationException} naming the backend and the op, until a subclass overrides it. A
 * partial backend therefore writes only the ops it declares in {@link #capabilities()}, no stubs:
 * <pre>{@code
 * final class MyDotBackend extends PartialBackend {
 *     MyDotBackend() {
 *         super("my-dot", Capabilities.builder().ops(EnumSet.of(Op.DOT, Op.TOP_K), EnumSet.of(ElementType.F32)).build());
 *     }
 *     @Override public void dot(Tensor q, Tensor m, Tensor s) { OpArgs.dot(capabilities(), q, m, s); ... }
 *     @Override public int topK(Tensor s, int k, Indices idx, Tensor val) { ... }
 * }
 * }</pre>
 * The four families are this object itself. Ops after {@link #close()} fail with
 * {@link IllegalStateException} when a subclass calls {@link #checkOpen()} first, as it should.
 */
public abstract class PartialBackend implements Backend, PrepareOps, RelevancyOps, RetrievalOps, ApplyOps {
    private final String name;
    private final Capabilities capabilities;
    private volatile boolean closed;

    protected PartialBackend(String name, Capabilities capabilities) {
        this.name = Objects.requireNonNull(name, "name");
        this.capabilities = Objects.requireNonNull(capabilities, "capabilities");
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Capabilities capabilities() {
        return capabilities;
    }

    @Override
    public final PrepareOps prepare() {
        return this;
    }

    @Override
    public final RelevancyOps relevancy() {
        return this;
    }

    @Override
    public final RetrievalOps retrieval() {
        return this;
    }

    @Override
    public final ApplyOps apply() {
        return this;
    }

    /** Marks the backend closed; subclasses that hold resources override and call {@code super.close()}. */
    @Override
    public void close() {
        closed = true;
    }

    /** Fails with {@link IllegalStateException} after {@link #close()}; call it first in every op. */
    protected final void checkOpen() {
        if (closed) {
            throw new IllegalStateException("backend '" + name + "' is closed");
        }
    }

    /** The exception every op a subclass does not override throws. */
    protected final UnsupportedOperationException notDeclared(Op op) {
        checkOpen();
        return new UnsupportedOperationException("backend '" + name + "' does not run " + op
                + " (capabilities: " + capabilities.ops() + ")");
    }

    // ---- Prepare ----
    @Override
    public void pageMinMax(Tensor keys, int pageSize, Tensor min, Tensor max) {
        throw notDeclared(Op.PAGE_MIN_MAX);
    }

    @Override
    public void pageMinMaxAppend(Tensor keys, long fromRow, int pageSize, Tensor min, Tensor max) {
        throw notDeclared(Op.PAGE_MIN_MAX);
    }

    @Override
    public void pagePool(Tensor keys, int pageSize, PoolMode mode, Tensor out) {
        throw notDeclared(Op.PAGE_POOL);
    }

    @Override
    public void project(Tensor x, Tensor w, Tensor y) {
        throw notDeclared(Op.PROJECT);
    }

    @Override
    public void quantize(Tensor x, Tensor q) {
        throw notDeclared(Op.QUANTIZE);
    }

    @Override
    public void dequantize(Tensor q, Tensor y) {
        throw notDeclared(Op.DEQUANTIZE);
    }

    @Override
    public void convert(Tensor x, Tensor y) {
        throw notDeclared(Op.CONVERT);
    }

    @Override
    public void l2Normalize(Tensor x, Tensor y) {
        throw notDeclared(Op.L2_NORMALIZE);
    }

    @Override
    public void rope(Tensor x, Indices positions, float theta, Tensor y) {
        throw notDeclared(Op.ROPE);
    }

    @Override
    public Bm25Index bm25Index(Indices offsets, Indices tokens) {
        throw notDeclared(Op.BM25_INDEX);
    }

    // ---- Relevancy ----
    @Override
    public void dot(Tensor q, Tensor m, Tensor s) {
        throw notDeclared(Op.DOT);
    }

    @Override
    public void cosine(Tensor q, Tensor m, Tensor s) {
        throw notDeclared(Op.COSINE);
    }

    @Override
    public void questBound(Tensor q, Tensor min, Tensor max, Tensor s) {
        throw notDeclared(Op.QUEST_BOUND);
    }

    @Override
    public void groupMax(Tensor s, int groupSize, Tensor y) {
        throw notDeclared(Op.GROUP_MAX);
    }

    @Override
    public void indexerScore(Tensor q, Tensor w, Tensor keys, Tensor kScale, Tensor s) {
        throw notDeclared(Op.INDEXER_SCORE);
    }

    @Override
    public void softmax(Tensor s, float scale, Tensor p) {
        throw notDeclared(Op.SOFTMAX);
    }

    @Override
    public void bm25Score(Indices query, Bm25Index index, Bm25Params params, Tensor s) {
        throw notDeclared(Op.BM25_SCORE);
    }

    // ---- Retrieval ----
    @Override
    public int topK(Tensor s, int k, Indices idx, Tensor val) {
        throw notDeclared(Op.TOP_K);
    }

    @Override
    public void threshold(Tensor s, float t, Bitmap out) {
        throw notDeclared(Op.THRESHOLD);
    }

    @Override
    public int bitmapToIndices(Bitmap bits, Indices out) {
        throw notDeclared(Op.BITMAP_TO_INDICES);
    }

    @Override
    public int expandBlocks(Indices blocks, int blockSize, long length, int sink, int window, Indices out) {
        throw notDeclared(Op.EXPAND_BLOCKS);
    }

    @Override
    public void gather(Tensor x, Indices idx, Tensor y) {
        throw notDeclared(Op.GATHER);
    }

    // ---- Apply ----
    @Override
    public void attention(Tensor q, Tensor keys, Tensor values, int kvHeads, Indices idx, float scale, Tensor out) {
        throw notDeclared(Op.ATTENTION);
    }

    @Override
    public void softRetrieve(Tensor a, Tensor v, Tensor out) {
        throw notDeclared(Op.SOFT_RETRIEVE);
    }
}
