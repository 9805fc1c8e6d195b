package dev.mempipe.cli;

import dev.mempipe.goldentests.ScalarBackend;
import dev.mempipe.spi.ApplyOps;
import dev.mempipe.spi.Availability;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.BackendProvider;
import dev.mempipe.spi.Bitmap;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.PrepareOps;
import dev.mempipe.spi.RelevancyOps;
import dev.mempipe.spi.RetrievalOps;
import dev.mempipe.spi.Tensor;

/**
 * A test-only backend, registered through ServiceLoader from the test resources, that the conformance command
 * must fail: the scalar oracle with a gather that copies row 0 for every index. Its priority is far below the
 * CPU backend's, so it is used only when asked for by name.
 */
public final class BrokenGatherProvider implements BackendProvider {
    public static final String NAME = "test-broken-gather";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return -1000;
    }

    @Override
    public Availability availability() {
        return Availability.available("test backend");
    }

    @Override
    public Backend create() {
        ScalarBackend oracle = new ScalarBackend();
        RetrievalOps retrieval = oracle.retrieval();
        RetrievalOps broken = new RetrievalOps() {
            @Override
            public int topK(Tensor s, int k, Indices idx, Tensor val) {
                return retrieval.topK(s, k, idx, val);
            }

            @Override
            public void threshold(Tensor s, float t, Bitmap out) {
                retrieval.threshold(s, t, out);
            }

            @Override
            public int bitmapToIndices(Bitmap bits, Indices out) {
                return retrieval.bitmapToIndices(bits, out);
            }

            @Override
            public int expandBlocks(Indices blocks, int blockSize, long length, int sink, int window, Indices out) {
                return retrieval.expandBlocks(blocks, blockSize, length, sink, window, out);
            }

            @Override
            public void gather(Tensor x, Indices idx, Tensor y) {
                Indices zeros = Indices.allocate(java.lang.foreign.Arena.ofAuto(), idx.length());
                retrieval.gather(x, zeros, y); // the bug: every index reads row 0
            }
        };
        return new Backend() {
            @Override
            public String name() {
                return NAME;
            }

            @Override
            public Capabilities capabilities() {
                return oracle.capabilities();
            }

            @Override
            public PrepareOps prepare() {
                return oracle.prepare();
            }

            @Override
            public RelevancyOps relevancy() {
                return oracle.relevancy();
            }

            @Override
            public RetrievalOps retrieval() {
                return broken;
            }

            @Override
            public ApplyOps apply() {
                return oracle.apply();
            }
        };
    }
}
