package dev.mempipe.langchain4j;

import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.model.TokenCountEstimator;

import java.util.Objects;

/**
 * A tokenizer-free token estimate for {@link CompressedChatMemory}'s budget: {@code ceil(chars / 4)} for text (the
 * usual average of BPE tokenizers on English prose) plus {@value #TOKENS_PER_MESSAGE} per message for the role and
 * separators of chat formats. It errs on neither side by design, so leave the model some headroom, or give the
 * memory the model's own {@link TokenCountEstimator} when the budget must be exact.
 *
 * <p>Stateless and thread-safe.
 */
public final class ChatMemoryTokenEstimator implements TokenCountEstimator {
    /** The per-message overhead: role markers and separators in OpenAI-style chat formats take about this many. */
    public static final int TOKENS_PER_MESSAGE = 4;

    private static final int CHARS_PER_TOKEN = 4;

    @Override
    public int estimateTokenCountInText(String text) {
        Objects.requireNonNull(text, "text");
        return (text.length() + CHARS_PER_TOKEN - 1) / CHARS_PER_TOKEN;
    }

    @Override
    public int estimateTokenCountInMessage(ChatMessage message) {
        Objects.requireNonNull(message, "message");
        return estimateTokenCountInText(ChatMemoryText.of(message)) + TOKENS_PER_MESSAGE;
    }

    @Override
    public int estimateTokenCountInMessages(Iterable<ChatMessage> messages) {
        Objects.requireNonNull(messages, "messages");
        int total = 0;
        for (ChatMessage m : messages) {
            total += estimateTokenCountInMessage(m);
        }
        return total;
    }
}
