package dev.mempipe.spi;

import java.util.Objects;

/**
 * The pins of a backend whose ops read host memory directly (the CPU): the identity. The tensor is returned
 * unchanged (no pin attached), refresh checks its argument and moves nothing.
 */
final class HostPins {
    private HostPins() {
    }

    static PinnedTensor tensor(Backend backend, Tensor host) {
        Objects.requireNonNull(host, "host");
        return new PinnedTensor() {
            private volatile boolean open = true;

            @Override
            public Tensor tensor() {
                return host;
            }

            @Override
            public Backend backend() {
                return backend;
            }

            @Override
            public void refresh(long fromRow, long toRow) {
                if (!open) {
                    throw new IllegalStateException("refresh of a closed pin of " + host);
                }
                Pins.checkRefresh(host, fromRow, toRow);
            }

            @Override
            public boolean isOpen() {
                return open;
            }

            @Override
            public void close() {
                open = false;
            }
        };
    }

    static PinnedBm25Index index(Backend backend, Bm25Index index) {
        Objects.requireNonNull(index, "index");
        return new PinnedBm25Index() {
            private volatile boolean open = true;

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
                open = false;
            }
        };
    }
}
