package dev.mempipe.langchain4j;

/**
 * How a {@link CompressedChatMemory} reads its archive of older messages: which of them are relevant to the newest
 * user message. Both reads score every archived message by the cosine of its summary embedding with the query
 * embedding; at most {@code maxMessages} are recalled, best first, as long as they fit the recall token budget.
 */
public sealed interface ChatMemoryRecall {

    /** Recall at most this many messages. */
    int maxMessages();

    /**
     * Top-k read: the {@code maxMessages} archived messages of highest cosine, those of cosine at least
     * {@code minScore}. The threshold is what keeps unrelated messages out; 0.5 suits sentence-embedding models
     * such as all-MiniLM-L6-v2, where a paraphrase scores about 0.6 and an unrelated sentence below 0.2.
     *
     * @param maxMessages {@code >= 1}
     * @param minScore    in {@code [-1, 1]}
     */
    record TopK(int maxMessages, double minScore) implements ChatMemoryRecall {
        public TopK {
            positive(maxMessages);
            if (!(minScore >= -1 && minScore <= 1)) {
                throw new IllegalArgumentException("minScore must be in [-1, 1], got " + minScore);
            }
        }
    }

    /**
     * Soft read, as HMT's memory recall (He et al., NAACL 2025): attention weights
     * {@code w = softmax(scale * cos(q, S_i))} over every archived summary; the messages of weight at least
     * {@code minWeight} are recalled. HMT blends the summaries by these weights into one embedding for the model;
     * a chat model takes text, so here the weights choose whole messages instead. Unlike a fixed threshold, the
     * weights are relative: a message is recalled when it stands out from the rest of the archive.
     *
     * @param maxMessages {@code >= 1}
     * @param scale       the softmax sharpness, {@code > 0}; cosines differ by tenths, so it must be large (20)
     *                    for the weights to separate; HMT's {@code 1/sqrt(d)} is for unnormalized dot products
     * @param minWeight   in {@code (0, 1]}
     */
    record Soft(int maxMessages, float scale, double minWeight) implements ChatMemoryRecall {
        public Soft {
            positive(maxMessages);
            if (!(scale > 0) || Float.isInfinite(scale)) {
                throw new IllegalArgumentException("scale must be finite and > 0, got " + scale);
            }
            if (!(minWeight > 0 && minWeight <= 1)) {
                throw new IllegalArgumentException("minWeight must be in (0, 1], got " + minWeight);
            }
        }
    }

    /** The default: {@code new TopK(4, 0.5)}. */
    ChatMemoryRecall DEFAULT = new TopK(4, 0.5);

    /** {@code new TopK(maxMessages, minScore)}. */
    static ChatMemoryRecall topK(int maxMessages, double minScore) {
        return new TopK(maxMessages, minScore);
    }

    /** {@code new Soft(maxMessages, scale, minWeight)}. */
    static ChatMemoryRecall soft(int maxMessages, float scale, double minWeight) {
        return new Soft(maxMessages, scale, minWeight);
    }

    private static void positive(int maxMessages) {
        if (maxMessages < 1) {
            throw new IllegalArgumentException("maxMessages must be >= 1, got " + maxMessages);
        }
    }
}
