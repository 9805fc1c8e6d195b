package dev.mempipe.langchain4j;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.output.Response;
import dev.mempipe.core.memory.SimpleTokenizer;

import java.util.List;

/**
 * A toy embedding model for tests that need no real one: each word adds 1 to a bucket chosen by its hash, so
 * texts that share words have a positive cosine and texts that share none have cosine 0 (barring a hash collision). Shows that the chat
 * memory works with any {@link EmbeddingModel}.
 */
final class WordHashChatMemoryModel implements EmbeddingModel {
    static final int DIMENSION = 1024;

    private final int dimension;

    WordHashChatMemoryModel() {
        this(DIMENSION);
    }

    /** With {@code dimension} buckets: small ones make small chat-memory files (the fuzz test's inputs). */
    WordHashChatMemoryModel(int dimension) {
        this.dimension = dimension;
    }

    @Override
    public Response<List<Embedding>> embedAll(List<TextSegment> segments) {
        return Response.from(segments.stream().map(s -> bagOfWords(s.text(), dimension)).map(Embedding::from).toList());
    }

    private static float[] bagOfWords(String text, int dimension) {
        float[] v = new float[dimension];
        for (String word : SimpleTokenizer.words(text)) {
            v[Math.floorMod(word.hashCode(), dimension)] += 1;
        }
        return v;
    }

    @Override
    public int dimension() {
        return dimension;
    }
}
