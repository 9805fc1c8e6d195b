package dev.mempipe.ops;

import dev.mempipe.spi.ApplyOps;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.FusedOps;
import dev.mempipe.spi.PrepareOps;
import dev.mempipe.spi.RelevancyOps;
import dev.mempipe.spi.RetrievalOps;
import dev.mempipe.spi.TrainOps;

/**
 * The CPU reference backend: every op of the contract on the Vector API over off-heap memory, for every
 * element type. It is the golden reference device backends are checked against and the fallback that
 * always runs. Safe for concurrent use; large scans split over a shared fork-join pool. It holds nothing to
 * release, but {@link #close()} is honoured: every op called after it (through op families fetched before or
 * after) fails with {@link IllegalStateException}, as the {@link Backend} contract says.
 */
public final class SimdBackend implements Backend {
    public static final String NAME = "cpu-simd";

    private final Capabilities capabilities = Capabilities.all();
    private final SimdState state = new SimdState();
    private final SimdPrepareOps prepare = new SimdPrepareOps(capabilities, state);
    private final SimdRelevancyOps relevancy = new SimdRelevancyOps(capabilities, state);
    private final SimdRetrievalOps retrieval = new SimdRetrievalOps(capabilities, state);
    private final SimdApplyOps apply = new SimdApplyOps(capabilities, state);
    private final SimdTrainOps train = new SimdTrainOps(state);
    private final SimdFusedOps fused = new SimdFusedOps(this, capabilities, state);

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return NAME + "(" + SimdRows.vectorDescription() + ", " + Parallel.THREADS + " threads)";
    }

    @Override
    public Capabilities capabilities() {
        return capabilities;
    }

    @Override
    public FusedOps fused() {
        return fused;
    }

    @Override
    public PrepareOps prepare() {
        return prepare;
    }

    @Override
    public RelevancyOps relevancy() {
        return relevancy;
    }

    @Override
    public RetrievalOps retrieval() {
        return retrieval;
    }

    @Override
    public ApplyOps apply() {
        return apply;
    }

    @Override
    public TrainOps train() {
        return train;
    }

    /** Makes every later op call fail with {@link IllegalStateException}; idempotent. */
    @Override
    public void close() {
        state.close();
    }
}
