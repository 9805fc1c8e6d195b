package dev.mempipe.core.pipeline;

import dev.mempipe.core.memory.Hits;

import java.util.List;
import java.util.Objects;

/** {@link DocumentRetrieval#bm25}: term ids are token ids. */
final class Bm25DocumentRetrieval implements DocumentRetrieval {
    private final Bm25Pipeline pipeline;

    Bm25DocumentRetrieval(Bm25Pipeline pipeline) {
        this.pipeline = Objects.requireNonNull(pipeline, "pipeline");
    }

    @Override
    public void add(List<int[]> documents) {
        pipeline.prepareTokens(documents.toArray(int[][]::new));
    }

    @Override
    public Hits search(int[] query) {
        return pipeline.retrieve(pipeline.relevancy(query));
    }

    @Override
    public int[] documentTokens(int doc) {
        return pipeline.memory().document(doc);
    }

    @Override
    public int size() {
        return pipeline.memory().documentCount();
    }
}
