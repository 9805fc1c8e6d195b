package dev.mempipe.langchain4j;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;
import dev.langchain4j.model.output.Response;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The real quantized all-MiniLM-L6-v2 model (384 dimensions, offline, inside its jar), loaded once for every test
 * class and memoized per text: the model is deterministic, and the suites embed the same few words hundreds of
 * times, which would otherwise dominate the module's test time. Each call returns a fresh array, so a caller that
 * changes its embedding cannot change another's. Public, in this module's test-jar, for the suites other modules run
 * against stores backed elsewhere (mempipe-hazelcast).
 */
public final class MiniLm implements EmbeddingModel {
    public static final MiniLm MODEL = new MiniLm();
    public static final int DIMENSION = 384;

    private final AllMiniLmL6V2QuantizedEmbeddingModel model = new AllMiniLmL6V2QuantizedEmbeddingModel();
    private final ConcurrentHashMap<String, float[]> vectors = new ConcurrentHashMap<>();

    private MiniLm() {
    }

    @Override
    public Response<Embedding> embed(String text) {
        return Response.from(new Embedding(vector(text).clone()));
    }

    @Override
    public Response<Embedding> embed(TextSegment segment) {
        return embed(segment.text());
    }

    @Override
    public Response<List<Embedding>> embedAll(List<TextSegment> segments) {
        List<Embedding> out = new ArrayList<>(segments.size());
        for (TextSegment segment : segments) {
            out.add(new Embedding(vector(segment.text()).clone()));
        }
        return Response.from(out);
    }

    @Override
    public int dimension() {
        return DIMENSION;
    }

    private float[] vector(String text) {
        return vectors.computeIfAbsent(text, t -> model.embed(t).content().vector());
    }
}
