package dev.mempipe.langchain4j;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.memory.ChatMemory;
import dev.langchain4j.model.TokenCountEstimator;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A chat memory after MemAgent (Yu et al., 2025): the conversation is read in chunks of {@code n} messages, and after
 * each chunk the user's own {@link ChatModel} rewrites a bounded text memory from the old memory and the chunk. The
 * memory never grows past its bound however long the conversation runs; what the model chose to keep is all that
 * remains of older messages.
 *
 * <h2>What {@link #messages()} returns</h2>
 * One {@link SystemMessage} when there is a system message or a memory (the system message's text, then
 * {@value #MEMORY_HEADER} and the memory), followed by the messages added since the last rewrite, verbatim, in order.
 *
 * <h2>The rewrite</h2>
 * When {@code n} messages (system messages do not count) are waiting, the model is asked, in one request of a
 * {@link SystemMessage} (the instruction, naming the bound in tokens) and a {@link UserMessage} holding the current
 * memory and the waiting messages as {@code User: ...} / {@code AI: ...} lines ({@link #rewritePrompt}). Its answer
 * is the new memory. An answer longer than the bound ({@link Builder#maxMemoryTokens}, measured with the estimator)
 * is cut at the last whole word within it; {@link #truncatedRewrites()} counts such cuts, and a warning is logged.
 *
 * <h2>Saving and loading</h2>
 * {@link #save} writes the system message, the memory and the waiting messages to a chat-memory file (format:
 * {@code ChatMemoryFile}, version 1) through the shared atomic writer: a crash during a save leaves the previous
 * file or the new one, whole. {@link #load} replaces this memory's contents with a file's, checked whole first: a
 * damaged, forged or foreign file, or a memory text over this memory's bound, is refused with a
 * {@link ChatMemoryFormatException} and the memory is unchanged. A rewrite running during a load is discarded, as
 * during a {@link #clear()}; a load that leaves {@code n} messages waiting rewrites, as an add would.
 *
 * <h2>Atomicity and thread-safety</h2>
 * Thread-safe. The model is called outside the memory's lock, on the thread whose {@code add} made the rewrite due;
 * meanwhile other threads keep adding and reading and see the old memory with every waiting message. The new memory
 * then replaces the old one and the rewritten messages leave, in one step under the lock; messages added during the
 * rewrite stay waiting. If the model fails, nothing changes (the messages stay waiting, the next add retries) and
 * {@code add} throws the model's exception. A {@link #clear()} during a rewrite discards its result. A chunk never
 * ends between a tool request and its results.
 */
public final class MemAgentChatMemory implements ChatMemory {
    /** Precedes the memory in the system message. */
    public static final String MEMORY_HEADER = "Memory of the conversation so far:";
    /** MemAgent's memory length. */
    public static final int DEFAULT_MAX_MEMORY_TOKENS = 1024;
    /** Messages per rewrite when the builder is not told otherwise. */
    public static final int DEFAULT_REWRITE_EVERY = 8;

    private static final System.Logger LOG = System.getLogger(MemAgentChatMemory.class.getName());

    private final Object id;
    private final ChatModel model;
    private final TokenCountEstimator tokens;
    private final int maxMemoryTokens;
    private final int rewriteEvery;

    private SystemMessage system;
    private String memory = "";
    private final List<ChatMessage> waiting = new ArrayList<>();
    private boolean rewriting;
    private long generation;     // bumped by clear(), so a rewrite started before it is discarded
    private long rewrites;
    private long truncated;

    private MemAgentChatMemory(Builder b) {
        this.id = b.id;
        this.model = b.model;
        this.tokens = b.tokens;
        this.maxMemoryTokens = b.maxMemoryTokens;
        this.rewriteEvery = b.rewriteEvery;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public Object id() {
        return id;
    }

    /** Adds a message; when it makes {@code n} messages wait, rewrites the memory (see the class comment). */
    @Override
    public void add(ChatMessage message) {
        Objects.requireNonNull(message, "message");
        synchronized (this) {
            if (message instanceof SystemMessage s) {
                system = s;
                return;
            }
            waiting.add(message);
        }
        rewriteWhileDue();
    }

    @Override
    public void add(Iterable<ChatMessage> messages) {
        synchronized (this) {
            for (ChatMessage m : messages) {
                Objects.requireNonNull(m, "message");
                if (m instanceof SystemMessage s) {
                    system = s;
                } else {
                    waiting.add(m);
                }
            }
        }
        rewriteWhileDue();
    }

    /** {@link #clear()}, then add (the messages are not summarized until a rewrite is due). */
    @Override
    public void set(Iterable<ChatMessage> messages) {
        synchronized (this) {
            clear();
            for (ChatMessage m : messages) {
                Objects.requireNonNull(m, "message");
                if (m instanceof SystemMessage s) {
                    system = s;
                } else {
                    waiting.add(m);
                }
            }
        }
        rewriteWhileDue();
    }

    @Override
    public synchronized List<ChatMessage> messages() {
        List<ChatMessage> out = new ArrayList<>(waiting.size() + 1);
        if (system != null || !memory.isEmpty()) {
            StringBuilder text = new StringBuilder(system != null ? system.text() : "");
            if (!memory.isEmpty()) {
                text.append(text.isEmpty() ? "" : "\n\n").append(MEMORY_HEADER).append('\n').append(memory);
            }
            out.add(SystemMessage.from(text.toString()));
        }
        out.addAll(waiting);
        return out;
    }

    @Override
    public synchronized void clear() {
        system = null;
        memory = "";
        waiting.clear();
        generation++;
    }

    /**
     * Writes this memory's contents to {@code file} (see the class comment), replacing it atomically; permissions,
     * owner and symbolic links of an existing file are kept.
     *
     * @throws IOException when the file cannot be written (the message names {@code file}); a previous file is intact
     */
    public synchronized void save(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        ChatMemoryFile.save(file, new ChatMemoryFile.MemAgent(system, memory, List.copyOf(waiting)),
                SectionWriter.WriteBudget.UNLIMITED);
    }

    /**
     * Replaces this memory's contents with those {@link #save} wrote to {@code file} (see the class comment).
     *
     * @throws ChatMemoryFormatException when the file is not a whole, undamaged chat-memory file of a
     *                                   {@code MemAgentChatMemory}, or its memory is over this memory's bound; the
     *                                   memory is then unchanged
     * @throws IOException               when the file cannot be read
     */
    public void load(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        ChatMemoryFile.MemAgent saved = ChatMemoryFile.loadMemAgent(file);
        int memoryTokens = tokens.estimateTokenCountInText(saved.memory());
        if (memoryTokens > maxMemoryTokens) {
            throw new ChatMemoryFormatException(file, "its memory has " + memoryTokens
                    + " tokens, over this memory's bound of " + maxMemoryTokens + " (maxMemoryTokens)");
        }
        synchronized (this) {
            clear();
            system = saved.system();
            memory = saved.memory();
            waiting.addAll(saved.waiting());
        }
        rewriteWhileDue();
    }

    /** The memory text now (empty before the first rewrite). */
    public synchronized String memory() {
        return memory;
    }

    /** Messages added since the last rewrite, in order. */
    public synchronized List<ChatMessage> waitingMessages() {
        return List.copyOf(waiting);
    }

    /** Rewrites applied so far. */
    public synchronized long rewrites() {
        return rewrites;
    }

    /** Rewrites whose answer exceeded the bound and was cut. */
    public synchronized long truncatedRewrites() {
        return truncated;
    }

    public int maxMemoryTokens() {
        return maxMemoryTokens;
    }

    public int rewriteEvery() {
        return rewriteEvery;
    }

    /**
     * The request a rewrite sends: the instruction, then the current memory and the messages to fold in.
     *
     * @param currentMemory the memory now (may be empty)
     * @param messages      the chunk of messages
     */
    public ChatRequest rewritePrompt(String currentMemory, List<ChatMessage> messages) {
        StringBuilder user = new StringBuilder("Current memory:\n")
                .append(currentMemory.isEmpty() ? "(empty)" : currentMemory).append("\n\nNew messages:\n");
        for (ChatMessage m : messages) {
            user.append(role(m)).append(": ").append(ChatMemoryText.of(m)).append('\n');
        }
        user.append("\nWrite the updated memory.");
        String instruction = "You maintain the memory of a conversation. Rewrite the memory so that it keeps every "
                + "fact, name, number, decision and open question from the current memory and the new messages "
                + "that may matter later, and drops the rest. Answer with the memory only, at most " + maxMemoryTokens
                + " tokens.";
        return ChatRequest.builder().messages(SystemMessage.from(instruction), UserMessage.from(user.toString()))
                .build();
    }

    @Override
    public String toString() {
        return "MemAgentChatMemory[id=" + id + ", maxMemoryTokens=" + maxMemoryTokens + ", rewriteEvery="
                + rewriteEvery + "]";
    }

    /** Rewrites as long as a chunk is waiting and no other thread is rewriting. */
    private void rewriteWhileDue() {
        while (true) {
            String oldMemory;
            List<ChatMessage> chunk;
            long startedIn;
            synchronized (this) {
                if (rewriting || waiting.size() < rewriteEvery) {
                    return;
                }
                int take = chunkEnd();
                chunk = List.copyOf(waiting.subList(0, take));
                oldMemory = memory;
                startedIn = generation;
                rewriting = true;
            }
            String rewritten;
            try {
                ChatResponse response = model.chat(rewritePrompt(oldMemory, chunk));
                AiMessage answer = response == null ? null : response.aiMessage();
                if (answer == null || answer.text() == null) {
                    throw new IllegalStateException("the chat model returned no text for the memory rewrite");
                }
                rewritten = answer.text().strip();
            } catch (RuntimeException e) {
                synchronized (this) {
                    rewriting = false;
                }
                throw e;
            }
            String bounded = bound(rewritten);
            synchronized (this) {
                rewriting = false;
                if (startedIn != generation) {
                    return; // cleared meanwhile: the rewrite is of a conversation that no longer exists
                }
                if (!bounded.equals(rewritten)) {
                    truncated++;
                    LOG.log(System.Logger.Level.WARNING, "memory rewrite of " + tokens.estimateTokenCountInText(
                            rewritten) + " tokens cut to the bound of " + maxMemoryTokens);
                }
                memory = bounded;
                waiting.subList(0, chunk.size()).clear();
                rewrites++;
            }
        }
    }

    /** At least {@code rewriteEvery} messages, extended so that no tool result is separated from its request. */
    private int chunkEnd() {
        int end = rewriteEvery;
        while (end < waiting.size() && waiting.get(end) instanceof ToolExecutionResultMessage) {
            end++;
        }
        return end;
    }

    /** The text cut at the last whole word whose prefix fits {@code maxMemoryTokens}. */
    private String bound(String text) {
        if (tokens.estimateTokenCountInText(text) <= maxMemoryTokens) {
            return text;
        }
        int lo = 0;
        int hi = text.length();
        while (lo < hi) { // the longest prefix within the bound
            int mid = (lo + hi + 1) >>> 1;
            if (tokens.estimateTokenCountInText(text.substring(0, mid)) <= maxMemoryTokens) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        int cut = lo;
        while (cut > 0 && cut < text.length() && !Character.isWhitespace(text.charAt(cut))) {
            cut--;
        }
        return text.substring(0, cut > 0 ? cut : lo).strip();
    }

    private static String role(ChatMessage m) {
        return switch (m) {
            case UserMessage u -> "User";
            case AiMessage a -> "AI";
            case ToolExecutionResultMessage t -> "Tool";
            default -> m.type().toString();
        };
    }

    /** Settings of a {@link MemAgentChatMemory}; the chat model is required. */
    public static final class Builder {
        private Object id = "default";
        private ChatModel model;
        private TokenCountEstimator tokens = new ChatMemoryTokenEstimator();
        private int maxMemoryTokens = DEFAULT_MAX_MEMORY_TOKENS;
        private int rewriteEvery = DEFAULT_REWRITE_EVERY;

        private Builder() {
        }

        public Builder id(Object id) {
            this.id = Objects.requireNonNull(id, "id");
            return this;
        }

        /** Rewrites the memory; required. Any {@link ChatModel}: the user's own. */
        public Builder chatModel(ChatModel model) {
            this.model = Objects.requireNonNull(model, "chatModel");
            return this;
        }

        /** The memory's bound in estimated tokens, {@code >= 1}; default {@value MemAgentChatMemory#DEFAULT_MAX_MEMORY_TOKENS}. */
        public Builder maxMemoryTokens(int maxMemoryTokens) {
            if (maxMemoryTokens < 1) {
                throw new IllegalArgumentException("maxMemoryTokens must be >= 1, got " + maxMemoryTokens);
            }
            this.maxMemoryTokens = maxMemoryTokens;
            return this;
        }

        /** Messages per rewrite, {@code >= 1}; default {@value MemAgentChatMemory#DEFAULT_REWRITE_EVERY}. */
        public Builder rewriteEvery(int messages) {
            if (messages < 1) {
                throw new IllegalArgumentException("rewriteEvery must be >= 1, got " + messages);
            }
            this.rewriteEvery = messages;
            return this;
        }

        /** Measures the bound; default {@link ChatMemoryTokenEstimator}. */
        public Builder tokenCountEstimator(TokenCountEstimator estimator) {
            this.tokens = Objects.requireNonNull(estimator, "tokenCountEstimator");
            return this;
        }

        /** @throws IllegalStateException when the chat model is missing */
        public MemAgentChatMemory build() {
            if (model == null) {
                throw new IllegalStateException("chatModel is required");
            }
            return new MemAgentChatMemory(this);
        }

    }
}
