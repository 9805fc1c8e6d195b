package dev.mempipe.core.memory;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.profile.OpCost;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.PoolMode;
import dev.mempipe.spi.PrepareOps;
import dev.mempipe.spi.Step;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Objects;

/**
 * SeerAttention-R's block gate keys: for every KV head, the keys of each block of B tokens are pooled with
 * MAX, MIN and MEAN ({@code pagePool}), the three rows are concatenated to {@code [3*d]} in that order, and
 * projected by the gate weight {@code W [dg, 3*d]} ({@code project}, shared by all heads) into one gate key
 * {@code [dg]}. Gate keys are stored {@code [blocks, Hkv*dg]} F32: block b's keys for head h are columns
 * {@code [h*dg, (h+1)*dg)} of row b ({@link #gateKeys(int)} is that band).
 *
 * <p>Only full blocks are pooled. The tokens of the partial last block are held as the remainder
 * ({@link #remainderRows()}, at most B - 1 rows, kept in F32) until the block fills; a pipeline attends them
 * directly, as the local window. So after any sequence of appends the gate keys equal those of a memory
 * given all rows at once.
 *
 * <p>The memory does not keep the full keys (the {@link PagedKvMemory} of the layer does); it keeps only
 * the remainder. Appended keys of any element type are decoded to f32, which is what pooling does anyway.
 *
 * <p>Thread-safety: single writer, many readers. {@link #append} writes gate keys, then publishes the new
 * length with a volatile store; {@link #snapshot} returns views of the gate keys of the full blocks at one
 * length, and later appends never write them. The {@link #remainder()} view is the writer's: later appends
 * overwrite it. Appends are {@code synchronized}.
 *
 * <p>Residency: {@link #placeOn} pins the gate keys on the device that scores them; every append refreshes
 * the blocks it pooled before publishing them. {@link #close()} frees the device copy.
 *
 * <p>Ops: each append is one Prepare step of the {@link Engine} ({@value #APPEND_LABEL}), on the backend the engine
 * hands it (placed, recorded, rerun on the CPU after a device fault). The remainder rows held before the append are
 * read (to pool the block they complete) and may be overwritten by the append's new remainder, so they are declared
 * as updated in place ({@link Engine#runInPlace}): a rerun pools them as they were.
 */
public final class BlockGateMemory implements AutoCloseable {
    /** SeerAttention-R's block size. */
    public static final int DEFAULT_BLOCK_SIZE = 64;
    /** Blocks pooled per op call: bounds the scratch while keeping {@code project} batched. */
    private static final int POOL_CHUNK_BLOCKS = 16;
    /** The profile label of an append: pooling and projecting the blocks it fills. */
    public static final String APPEND_LABEL = "pagePool+project";

    private final Engine engine;
    private final int kvHeads;
    private final int headDim;
    private final int gateDim;
    private final int blockSize;
    private final long capacity;
    private final Tensor gateWeight; // W [dg, 3d], our own F32 copy
    private final ResidentTensor gateKeys;   // [floor(capacity/B), Hkv*dg]
    private final Tensor remainder;  // [B, Hkv*d]: tokens of the partial block
    private final Tensor pooled;     // [POOL_CHUNK_BLOCKS, 3d]: MAX | MIN | MEAN of one head
    private volatile long length;

    /** Blocks of {@value #DEFAULT_BLOCK_SIZE} tokens. */
    public BlockGateMemory(Arena arena, Engine engine, int kvHeads, int headDim, Tensor gateWeight, long capacity) {
        this(arena, engine, kvHeads, headDim, gateWeight, capacity, DEFAULT_BLOCK_SIZE);
    }

    /**
     * @param engine     runs the memory's ops
     * @param kvHeads    Hkv {@code >= 1}
     * @param headDim    d {@code >= 1}
     * @param gateWeight W {@code [dg, 3*d]}, any element type; copied (decoded to F32), so later changes to it
     *                   are not seen
     * @param capacity   tokens the memory can take, {@code >= 1}
     * @param blockSize  B {@code >= 1}
     */
    public BlockGateMemory(Arena arena, Engine engine, int kvHeads, int headDim, Tensor gateWeight, long capacity,
                           int blockSize) {
        MemoryArgs.arena(arena);
        this.engine = Objects.requireNonNull(engine, "engine");
        this.kvHeads = MemoryArgs.positive("kvHeads", kvHeads);
        this.headDim = MemoryArgs.positive("headDim", headDim);
        this.capacity = MemoryArgs.positive("capacity", capacity);
        this.blockSize = MemoryArgs.positive("blockSize", blockSize);
        int pooledWidth = Math.multiplyExact(3, headDim);
        MemoryArgs.rowsOf("gateWeight", gateWeight, pooledWidth, "3*d = 3*" + headDim);
        if (gateWeight.rows() < 1 || gateWeight.rows() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("gateWeight must have 1 to " + Integer.MAX_VALUE
                    + " rows (the gate dimension dg), got " + gateWeight.shapeString());
        }
        this.gateDim = (int) gateWeight.rows();
        MemoryBudget.claim(arena, MemoryArgs.tensorBytes(ElementType.F32, gateDim + POOL_CHUNK_BLOCKS, pooledWidth)
                + MemoryArgs.tensorBytes(ElementType.F32, capacity / blockSize, Math.multiplyExact(kvHeads, gateDim))
                + MemoryArgs.tensorBytes(ElementType.F32, blockSize, Math.multiplyExact(kvHeads, headDim)),
                "BlockGateMemory of " + capacity + " tokens");
        this.gateWeight = Tensor.allocate(arena, ElementType.F32, gateDim, pooledWidth);
        Tensor ownWeight = this.gateWeight;
        engine.runVoid(Op.CONVERT, OpCosts.convert(gateDim, pooledWidth, gateWeight.type(), ElementType.F32),
                b -> b.prepare().convert(gateWeight, ownWeight));
        this.gateKeys = new ResidentTensor(Tensor.allocate(arena, ElementType.F32, capacity / blockSize,
                Math.multiplyExact(kvHeads, gateDim)));
        this.remainder = Tensor.allocate(arena, ElementType.F32, blockSize, Math.multiplyExact(kvHeads, headDim));
        this.pooled = Tensor.allocate(arena, ElementType.F32, POOL_CHUNK_BLOCKS, pooledWidth);
    }

    /**
     * Appends the keys of n tokens: fills the remainder, pools every block that becomes full.
     *
     * @param keys {@code [n, Hkv*d]}, any element type
     * @throws IllegalArgumentException when the shape is wrong
     * @throws IllegalStateException    when n more tokens do not fit the capacity
     */
    public synchronized void append(Tensor keys) {
        MemoryArgs.rowsOf("keys", keys, kvHeads * headDim, "Hkv*d = " + kvHeads + "*" + headDim);
        long from = length;
        long n = keys.rows();
        MemoryArgs.room("BlockGateMemory", capacity, from, n, "tokens");
        if (n == 0) {
            return;
        }
        int held = (int) (from % blockSize);
        // the remainder rows held so far: read to pool the block they complete, and overwritten by a new remainder
        List<Tensor> heldRows = held == 0 ? List.of() : List.of(remainder.rowSlice(0, held));
        engine.runInPlace(Step.PREPARE, APPEND_LABEL, appendCost(keys, from), heldRows, b -> {
            appendOn(b.prepare(), keys, from);
            gateKeys.refresh(from / blockSize, (from + n) / blockSize); // the blocks pooled, counted in the step
        });
        length = from + n; // publish: a reader that sees it also sees the gate keys written above
    }

    /** The append's ops, on {@code prepare}: fills the remainder, pools every block that becomes full. */
    private void appendOn(PrepareOps prepare, Tensor keys, long from) {
        long n = keys.rows();
        long block = from / blockSize;
        int held = (int) (from % blockSize);
        long used = 0;
        if (held > 0) {
            // complete the partial block first; it is pooled from the remainder copy
            int take = (int) Math.min(blockSize - held, n);
            prepare.convert(keys.rowSlice(0, take), remainder.rowSlice(held, held + take));
            used = take;
            if (held + take == blockSize) {
                poolBlocks(prepare, remainder, block, 1);
                block++;
            }
        }
        long whole = (n - used) / blockSize;
        if (whole > 0) {
            // whole blocks straight from the input: pooling decodes to f32 either way, so the result is the same
            poolBlocks(prepare, keys.rowSlice(used, used + whole * blockSize), block, whole);
            used += whole * blockSize;
        }
        if (used < n) {
            prepare.convert(keys.rowSlice(used, n), remainder.rowSlice(0, n - used));
        }
    }

    /** The work of appending {@code keys} at {@code from}: the remainder copies, or the pooling of the new blocks. */
    private OpCost appendCost(Tensor keys, long from) {
        long n = keys.rows();
        long newBlocks = (from + n) / blockSize - from / blockSize;
        int d = headDim;
        if (newBlocks == 0) {
            // rows of a block that is not full yet are only copied aside, until the block fills
            return OpCosts.convert(n, (long) kvHeads * d, keys.type(), ElementType.F32);
        }
        long pooledRows = newBlocks * blockSize;
        OpCost perHead = OpCost.ZERO;
        for (PoolMode mode : new PoolMode[] {PoolMode.MAX, PoolMode.MIN, PoolMode.MEAN}) {
            perHead = perHead.plus(OpCosts.pagePool(pooledRows, d, blockSize, mode, ElementType.F32, ElementType.F32));
        }
        return perHead.plus(OpCosts.project(newBlocks, 3L * d, gateDim, ElementType.F32, ElementType.F32,
                ElementType.F32)).times(kvHeads);
    }

    /** Pins the gate keys on {@code backend} (the device of the Relevancy step); a no-op when they are there. */
    public synchronized void placeOn(Backend backend) {
        gateKeys.placeOn(backend);
    }

    /** Frees the device copy. */
    @Override
    public synchronized void close() {
        gateKeys.close();
    }

    /** Pools {@code count} blocks of {@code source} into gate keys {@code [first, first + count)}. */
    private void poolBlocks(PrepareOps prepare, Tensor source, long first, long count) {
        int d = headDim;
        for (long done = 0; done < count; done += POOL_CHUNK_BLOCKS) {
            int chunk = (int) Math.min(POOL_CHUNK_BLOCKS, count - done);
            Tensor rows = source.rowSlice(done * blockSize, (done + chunk) * blockSize);
            Tensor concat = pooled.rowSlice(0, chunk);                         // (chunk, 3d)
            Tensor out = gateKeys.host().rowSlice(first + done, first + done + chunk); // (chunk, Hkv*dg)
            for (int h = 0; h < kvHeads; h++) {
                Tensor head = rows.columns(h * d, d);             // (chunk*B, d)
                prepare.pagePool(head, blockSize, PoolMode.MAX, concat.columns(0, d));
                prepare.pagePool(head, blockSize, PoolMode.MIN, concat.columns(d, d));
                prepare.pagePool(head, blockSize, PoolMode.MEAN, concat.columns(2 * d, d));
                prepare.project(concat, gateWeight, out.columns(h * gateDim, gateDim));
            }
        }
    }

    /** Gate keys of every head for the full blocks at one published length. */
    public Snapshot snapshot() {
        long n = length;
        return new Snapshot(n, gateKeys.view().rowSlice(0, n / blockSize), kvHeads, gateDim);
    }

    /** Tokens appended (the published length). */
    public long length() {
        return length;
    }

    /** Full blocks pooled into gate keys. */
    public long blocks() {
        return length / blockSize;
    }

    /** Tokens of the partial last block, not yet pooled: {@code length % B}. */
    public int remainderRows() {
        return (int) (length % blockSize);
    }

    /**
     * The remainder tokens' keys {@code [remainderRows, Hkv*d]} F32. For the writer's thread: later appends
     * overwrite this buffer.
     */
    public Tensor remainder() {
        return remainder.rowSlice(0, remainderRows());
    }

    /** Gate keys of KV head {@code head}: {@code [blocks, dg]}; see {@link Snapshot#gateKeys(int)}. */
    public Tensor gateKeys(int head) {
        return snapshot().gateKeys(head);
    }

    /** All gate keys {@code [blocks, Hkv*dg]}. */
    public Tensor gateKeys() {
        return snapshot().gateKeys();
    }

    public long capacity() {
        return capacity;
    }

    public int kvHeads() {
        return kvHeads;
    }

    public int headDim() {
        return headDim;
    }

    /** dg, the width of one head's gate key. */
    public int gateDim() {
        return gateDim;
    }

    public int blockSize() {
        return blockSize;
    }

    /**
     * Gate keys at one published length: {@code gateKeys [blocks, Hkv*dg]}, immutable.
     */
    public record Snapshot(long length, Tensor gateKeys, int kvHeads, int gateDim) {
        public long blocks() {
            return gateKeys.rows();
        }

        /** The band of KV head {@code head}: {@code [blocks, dg]} with the row stride of all heads. */
        public Tensor gateKeys(int head) {
            if (head < 0 || head >= kvHeads) {
                throw new IllegalArgumentException("head must be in [0, " + kvHeads + "), got " + head);
            }
            return gateKeys.columns(head * gateDim, gateDim);
        }
    }
}
