package dev.mempipe.goldentests;

import dev.mempipe.spi.ApplyOps;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.PrepareOps;
import dev.mempipe.spi.RelevancyOps;
import dev.mempipe.spi.RetrievalOps;
import dev.mempipe.spi.TrainOps;

/**
 * The scalar oracle: every op of the contract written as plain loops over {@code Tensor.get}/{@code set},
 * accumulating in double, so that it is obviously correct rather than fast. The conformance kit compares
 * every other backend to it; the engine never runs it.
 *
 * <p>Safe for concurrent use. Holds nothing; {@link #close()} only makes later op calls fail with
 * {@link IllegalStateException}, as the {@link Backend} contract asks.
 */
public final class ScalarBackend implements Backend {
    private static final Capabilities CAPABILITIES = Capabilities.all();

    private final ScalarState state = new ScalarState();
    private final ScalarPrepareOps prepare = new ScalarPrepareOps(CAPABILITIES, state);
    private final ScalarRelevancyOps relevancy = new ScalarRelevancyOps(CAPABILITIES, state);
    private final ScalarRetrievalOps retrieval = new ScalarRetrievalOps(CAPABILITIES, state);
    private final ScalarApplyOps apply = new ScalarApplyOps(CAPABILITIES, state);
    private final ScalarTrainOps train = new ScalarTrainOps(state);

    public ScalarBackend() {
    }

    @Override
    public String name() {
        return "scalar-oracle";
    }

    @Override
    public Capabilities capabilities() {
        return CAPABILITIES;
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

    @Override
    public void close() {
        state.close();
    }
}
