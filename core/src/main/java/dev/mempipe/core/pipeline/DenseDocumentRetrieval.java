package dev.mempipe.core.pipeline;

import dev.mempipe.core.memory.Hits;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/** {@link DocumentRetrieval#dense}: documents and queries embedded by the caller's function. */
final class DenseDocumentRetrieval implements DocumentRetrieval {
    private final DenseRagPipeline pipeline;
    private final Function<int[], Tensor> embedder;
    private final List<int[]> tokens = new ArrayList<>();

    DenseDocumentRetrieval(DenseRagPipeline pipeline, Function<int[], Tensor> embedder) {
        this.pipeline = Objects.requireNonNull(pipeline, "pipeline");
        this.embedder = Objects.requireNonNull(embedder, "embedder");
    }

    @Override
    public void add(List<int[]> documents) {
        if (documents.isEmpty()) {
            return;
        }
        int d = pipeline.memory().dimension();
        try (Arena scratch = Arena.ofShared()) {
            Tensor embeddings = Tensor.allocate(scratch, ElementType.F32, documents.size(), d); // (n, d)
            List<String> texts = new ArrayList<>();
            for (int i = 0; i < documents.size(); i++) {
                Tensor e = embed(documents.get(i));
                for (int c = 0; c < d; c++) {
                    embeddings.set(i, c, e.get(0, c));
                }
                texts.add("document " + (tokens.size() + i));
            }
            pipeline.prepare(new DenseRagPipeline.Chunks(embeddings, texts));
        }
        for (int[] doc : documents) {
            tokens.add(doc.clone());
        }
    }

    @Override
    public Hits search(int[] query) {
        return pipeline.retrieve(pipeline.relevancy(embed(query)));
    }

    @Override
    public int[] documentTokens(int doc) {
        return Collections.unmodifiableList(tokens).get(Objects.checkIndex(doc, tokens.size())).clone();
    }

    @Override
    public int size() {
        return tokens.size();
    }

    private Tensor embed(int[] ids) {
        Tensor e = Objects.requireNonNull(embedder.apply(ids), "the embedder returned null");
        int d = pipeline.memory().dimension();
        if (e.rows() != 1 || e.cols() != d) {
            throw new IllegalArgumentException("the embedder must return [1, " + d + "], got " + e.shapeString());
        }
        return e;
    }
}
