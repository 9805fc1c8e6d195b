package dev.mempipe.langchain4j;

import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.CustomMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;

import java.util.StringJoiner;

/** The text of a chat message, for token estimates and summary embeddings; non-text contents are left out. */
final class ChatMemoryText {
    private ChatMemoryText() {
    }

    static String of(ChatMessage message) {
        return switch (message) {
            case SystemMessage m -> m.text();
            case UserMessage m -> {
                StringJoiner text = new StringJoiner("\n");
                m.contents().stream().filter(TextContent.class::isInstance)
                        .forEach(c -> text.add(((TextContent) c).text()));
                yield text.toString();
            }
            case AiMessage m -> {
                StringJoiner text = new StringJoiner("\n");
                if (m.text() != null) {
                    text.add(m.text());
                }
                if (m.hasToolExecutionRequests()) {
                    for (ToolExecutionRequest r : m.toolExecutionRequests()) {
                        text.add(r.name() + "(" + r.arguments() + ")");
                    }
                }
                yield text.toString();
            }
            case ToolExecutionResultMessage m -> m.text() == null ? "" : m.text();
            case CustomMessage m -> String.valueOf(m.attributes());
            default -> String.valueOf(message);
        };
    }

    /**
     * Whether {@code message} may be archived and recalled on its own: a user message, or an AI message without
     * tool requests. A tool request or result recalled without its partner would break the chat APIs, which
     * require every tool result to follow its request.
     */
    static boolean recallable(ChatMessage message) {
        return (message instanceof UserMessage || message instanceof AiMessage ai && !ai.hasToolExecutionRequests())
                && !of(message).isBlank();
    }
}
