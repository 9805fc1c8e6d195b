package dev.mempipe.fpga;

import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.PinnedBm25Index;

/**
 * A BM25 index held in device memory as its {@link ForwardIndex} in three buffer objects of the {@code bm25}
 * kernel's banks. Immutable; thread-safety as {@link PinnedBm25Index}.
 */
final class XrtPinnedIndex implements PinnedBm25Index {
    private final XrtBackend backend;
    private final Bm25Index index;
    final XrtBuffer docOffsets;
    final XrtBuffer pairs;
    final XrtBuffer docLengths;
    private final long bytes;
    private volatile boolean open = true;

    XrtPinnedIndex(XrtBackend backend, Bm25Index index, XrtBuffer docOffsets, XrtBuffer pairs, XrtBuffer docLengths,
                   long bytes) {
        this.backend = backend;
        this.index = index;
        this.docOffsets = docOffsets;
        this.pairs = pairs;
        this.docLengths = docLengths;
        this.bytes = bytes;
    }

    @Override
    public Bm25Index index() {
        return index;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public void close() {
        if (!open) {
            return;
        }
        open = false;
        backend.locked(() -> {
            backend.unpin(index, this);
            docOffsets.close();
            pairs.close();
            docLengths.close();
            backend.released(bytes);
            return null;
        });
    }
}
