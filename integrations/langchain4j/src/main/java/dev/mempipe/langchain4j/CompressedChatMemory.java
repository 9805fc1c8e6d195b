package dev.mempipe.langchain4j;

import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.memory.ChatMemory;
import dev.langchain4j.model.TokenCountEstimator;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.mempipe.core.engine.Engine;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Objects;

/**
 * A chat memory that stays inside a token budget without forgetting what still matters, after HMT's hierarchical
 * memory (He et al., NAACL 2025): recent messages are kept verbatim, older ones are compressed to summary
 * embeddings and recalled when they are relevant to the newest user message.
 *
 * <h2>What {@link #messages()} returns</h2>
 * <ol>
 *   <li>The {@link SystemMessage}, always (the latest one added; adding an equal one again changes nothing).</li>
 *   <li>Recalled older messages: those of the archive that the {@link ChatMemoryRecall} read finds relevant to
 *       the newest {@link UserMessage} of the window, most relevant first while they fit
 *       {@link Builder#recallTokens}, then put back in their original order. They are the original message
 *       objects, unmarked, so the model sees them as the turns they were.</li>
 *   <li>The recent window: the newest messages, verbatim, in order.</li>
 * </ol>
 *
 * <h2>Budget</h2>
 * The estimate ({@link Builder#tokenCountEstimator}) of everything {@link #messages()} returns is at most
 * {@link Builder#maxTokens}: the window holds at most {@code maxTokens - recallTokens - tokens(system)} and the
 * recalled messages at most {@code recallTokens}. Exceptions: the newest message is always kept, even when it
 * alone exceeds the window's share (a model needs the question it is asked), and so is the system message, even
 * when it alone exceeds {@code maxTokens - recallTokens}.
 *
 * <h2>Eviction and the archive</h2>
 * When an add takes the window over its share, the oldest messages leave it, and each user message or AI message
 * without tool requests is embedded (one summary embedding per message, by the {@link EmbeddingModel} given,
 * any model) into a bounded archive (core's {@code CompressedMemory}; when full, the oldest is forgotten).
 * Tool requests and results leave together and are not archived: recalled without their partner they would break
 * the chat APIs. {@link #clear()} empties the system message, the window and the archive; so does
 * {@link #set}, which is {@code clear()} then {@code add}.
 *
 * <h2>Saving and loading</h2>
 * {@link #save} writes the system message, the window and the archive (its messages with their summary embeddings,
 * so a load embeds nothing) to a chat-memory file (format: {@code ChatMemoryFile}, version 1) through the shared
 * atomic writer: a crash during a save leaves the previous file or the new one, whole. {@link #load} replaces this
 * memory's contents with a file's, checked whole first: a damaged, forged or foreign file is refused with a
 * {@link ChatMemoryFormatException} and the memory is unchanged. Token counts are re-estimated with this memory's
 * estimator; a window over this memory's share is evicted into the archive as an add would, and an archive beyond
 * this memory's capacity keeps its newest messages, as it would have had they been archived here. The summaries
 * are only meaningful to the same embedding model: a file of another dimension is refused, a different model of the
 * same dimension is not detected.
 *
 * <h2>Thread-safety</h2>
 * Thread-safe: every method synchronizes on this memory, and an add or set of several messages is atomic.
 * Embedding runs inside the lock (the evicted messages on {@code add}, the query on {@link #messages()}, once per
 * newest user message), so a slow model delays other callers of the same memory, not other memories.
 */
public final class CompressedChatMemory implements ChatMemory {
    /** Archive capacity when the builder is not told otherwise: older messages than these are forgotten. */
    public static final int DEFAULT_ARCHIVE_CAPACITY = 1024;

    private final Object id;
    private final EmbeddingModel model;
    private final TokenCountEstimator tokens;
    private final int maxTokens;
    private final int recallTokens;
    private final ChatMemoryRecall recall;
    private final Engine engine;
    private final int dimension;
    private final int archiveCapacity;

    private record Held(ChatMessage message, int tokens) {
    }

    private SystemMessage system; // null: none
    private int systemTokens;
    private final Deque<Held> window = new ArrayDeque<>();
    private int windowTokens;
    private ChatMemoryArchive archive;

    // messages() is asked often between adds: its recall is computed once per change
    private List<ChatMessage> recalled = List.of();
    private boolean recallStale = true;
    private UserMessage queryMessage; // the message whose embedding queryEmbedding holds
    private float[] queryEmbedding;

    private CompressedChatMemory(Builder b) {
        this.id = b.id;
        this.model = b.model;
        this.tokens = b.tokens;
        this.maxTokens = b.maxTokens;
        this.recallTokens = b.recallTokens >= 0 ? b.recallTokens : b.maxTokens / 4;
        this.recall = b.recall;
        this.engine = b.engine != null ? b.engine : MempipeEmbeddingStore.defaultEngine();
        this.dimension = model.dimension();
        this.archiveCapacity = b.archiveCapacity;
        this.archive = newArchive();
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public Object id() {
        return id;
    }

    @Override
    public synchronized void add(ChatMessage message) {
        Objects.requireNonNull(message, "message");
        if (message instanceof SystemMessage s) {
            if (s.equals(system)) {
                return;
            }
            system = s;
            systemTokens = tokens.estimateTokenCountInMessage(s);
        } else {
            Held held = new Held(message, tokens.estimateTokenCountInMessage(message));
            window.addLast(held);
            windowTokens += held.tokens();
        }
        evictOverBudget();
        recallStale = true;
    }

    /** As the interface's default, one message at a time, but atomically. */
    @Override
    public synchronized void add(Iterable<ChatMessage> messages) {
        ChatMemory.super.add(messages);
    }

    /** As the interface's default ({@link #clear()}, then add each), but atomically. */
    @Override
    public synchronized void set(Iterable<ChatMessage> messages) {
        ChatMemory.super.set(messages);
    }

    @Override
    public synchronized List<ChatMessage> messages() {
        List<ChatMessage> out = new ArrayList<>(1 + recall.maxMessages() + window.size());
        if (system != null) {
            out.add(system);
        }
        out.addAll(recalled());
        window.forEach(h -> out.add(h.message()));
        return out;
    }

    @Override
    public synchronized void clear() {
        system = null;
        systemTokens = 0;
        window.clear();
        windowTokens = 0;
        archive = newArchive();
        recalled = List.of();
        recallStale = true;
        queryMessage = null;
        queryEmbedding = null;
    }

    /**
     * Writes this memory's contents to {@code file} (see the class comment), replacing it atomically; permissions,
     * owner and symbolic links of an existing file are kept.
     *
     * @throws IOException when the file cannot be written (the message names {@code file}); a previous file is intact
     */
    public synchronized void save(Path file) throws IOException {
        save(file, SectionWriter.WriteBudget.UNLIMITED);
    }

    /** {@link #save}, failing once {@code budget} bytes are written: for tests of a failed save. */
    synchronized void save(Path file, SectionWriter.WriteBudget budget) throws IOException {
        Objects.requireNonNull(file, "file");
        List<ChatMessage> held = window.stream().map(Held::message).toList();
        ChatMemoryFile.save(file, new ChatMemoryFile.Compressed(system, held, dimension, archive.heldSummaries(),
                archive.heldMessages()), budget);
    }

    /**
     * Replaces this memory's contents with those {@link #save} wrote to {@code file} (see the class comment).
     *
     * @throws ChatMemoryFormatException when the file is not a whole, undamaged chat-memory file of a
     *                                   {@code CompressedChatMemory} with summaries of this model's dimension; the
     *                                   memory is then unchanged
     * @throws IOException               when the file cannot be read
     */
    public void load(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        ChatMemoryFile.Compressed saved = ChatMemoryFile.loadCompressed(file, dimension); // checked before any change
        List<Integer> archivedTokens = saved.archived().stream().map(tokens::estimateTokenCountInMessage).toList();
        ChatMemoryArchive restored = newArchive();
        restored.restore(saved.summaries(), saved.archived(), archivedTokens);
        List<Held> held = saved.window().stream()
                .map(m -> new Held(m, tokens.estimateTokenCountInMessage(m))).toList();
        int heldSystemTokens = saved.system() == null ? 0 : tokens.estimateTokenCountInMessage(saved.system());
        synchronized (this) {
            clear();
            system = saved.system();
            systemTokens = heldSystemTokens;
            archive = restored;
            held.forEach(h -> {
                window.addLast(h);
                windowTokens += h.tokens();
            });
            evictOverBudget(); // a memory of a smaller budget than the one that saved
        }
    }

    /** The older messages {@link #messages()} includes now, in original order. */
    public synchronized List<ChatMessage> recalledMessages() {
        return recalled();
    }

    /** The recent window, verbatim, oldest first. */
    public synchronized List<ChatMessage> recentMessages() {
        return window.stream().map(Held::message).toList();
    }

    /** Messages held in the archive (evicted from the window and not yet forgotten). */
    public synchronized int archivedMessages() {
        return archive.size();
    }

    /** The budget of {@link #messages()}, in estimated tokens. */
    public int maxTokens() {
        return maxTokens;
    }

    /** The part of {@link #maxTokens()} reserved for recalled messages. */
    public int recallTokens() {
        return recallTokens;
    }

    @Override
    public String toString() {
        return "CompressedChatMemory[id=" + id + ", maxTokens=" + maxTokens + ", recallTokens=" + recallTokens
                + ", recall=" + recall + "]";
    }

    /** Moves the oldest messages to the archive while the window is over its share, keeping the newest. */
    private void evictOverBudget() {
        int share = maxTokens - recallTokens - systemTokens;
        List<ChatMessage> evicted = new ArrayList<>();
        List<Integer> evictedTokens = new ArrayList<>();
        while (windowTokens > share && window.size() > 1) {
            evict(evicted, evictedTokens);
            // results of a tool request that just left would be orphans: they leave with it
            while (window.size() > 1 && window.peekFirst().message() instanceof ToolExecutionResultMessage) {
                evict(evicted, evictedTokens);
            }
        }
        if (recallTokens > 0) { // with recall off, embedding the evicted messages would be wasted work
            archive.archive(evicted, evictedTokens);
        }
    }

    private void evict(List<ChatMessage> evicted, List<Integer> evictedTokens) {
        Held oldest = window.removeFirst();
        windowTokens -= oldest.tokens();
        evicted.add(oldest.message());
        evictedTokens.add(oldest.tokens());
    }

    private List<ChatMessage> recalled() {
        if (!recallStale) {
            return recalled;
        }
        recalled = List.of();
        recallStale = false;
        UserMessage query = newestUserMessage();
        if (query == null || recallTokens == 0 || archive.size() == 0) {
            return recalled;
        }
        float[] q = embedding(query);
        if (q == null) {
            return recalled;
        }
        List<ChatMemoryArchive.Candidate> chosen = new ArrayList<>();
        int left = recallTokens;
        for (ChatMemoryArchive.Candidate c : archive.candidates(q, recall)) {
            if (chosen.size() == recall.maxMessages()) {
                break;
            }
            if (c.tokens() <= left) { // one that does not fit may leave room for a shorter, less relevant one
                chosen.add(c);
                left -= c.tokens();
            }
        }
        chosen.sort(Comparator.comparingLong(ChatMemoryArchive.Candidate::sequence));
        recalled = chosen.stream().map(ChatMemoryArchive.Candidate::message).toList();
        return recalled;
    }

    private UserMessage newestUserMessage() {
        for (var it = window.descendingIterator(); it.hasNext(); ) {
            if (it.next().message() instanceof UserMessage u) {
                return u;
            }
        }
        return null;
    }

    /** The unit query embedding of {@code query}'s text, cached for that message; null when it has no text. */
    private float[] embedding(UserMessage query) {
        if (query != queryMessage) {
            String text = ChatMemoryText.of(query);
            queryEmbedding = text.isBlank() ? null : archive.unit(model.embed(text).content().vector());
            queryMessage = query;
        }
        return queryEmbedding;
    }

    private ChatMemoryArchive newArchive() {
        return new ChatMemoryArchive(engine, model, dimension, archiveCapacity);
    }

    /** Settings of a {@link CompressedChatMemory}: the model and the budget are required. */
    public static final class Builder {
        private Object id = "default";
        private EmbeddingModel model;
        private TokenCountEstimator tokens = new ChatMemoryTokenEstimator();
        private int maxTokens = -1;
        private int recallTokens = -1;
        private ChatMemoryRecall recall = ChatMemoryRecall.DEFAULT;
        private Engine engine;
        private int archiveCapacity = DEFAULT_ARCHIVE_CAPACITY;

        private Builder() {
        }

        /** The memory's id (a user or conversation id); default {@code "default"}. */
        public Builder id(Object id) {
            this.id = Objects.requireNonNull(id, "id");
            return this;
        }

        /** Embeds evicted messages and the query; required. Any model; one instance may serve many memories. */
        public Builder embeddingModel(EmbeddingModel model) {
            this.model = Objects.requireNonNull(model, "embeddingModel");
            return this;
        }

        /** The budget of {@link #messages()} in estimated tokens, {@code >= 1}; required. */
        public Builder maxTokens(int maxTokens) {
            if (maxTokens < 1) {
                throw new IllegalArgumentException("maxTokens must be >= 1, got " + maxTokens);
            }
            this.maxTokens = maxTokens;
            return this;
        }

        /**
         * The part of {@code maxTokens} reserved for recalled messages, in {@code [0, maxTokens)}; default a
         * quarter of it. 0 turns recall off: the memory is then a plain token window, and evicted messages are
         * dropped without being embedded.
         */
        public Builder recallTokens(int recallTokens) {
            if (recallTokens < 0) {
                throw new IllegalArgumentException("recallTokens must be >= 0, got " + recallTokens);
            }
            this.recallTokens = recallTokens;
            return this;
        }

        /** How the archive is read; default {@link ChatMemoryRecall#DEFAULT}. */
        public Builder recall(ChatMemoryRecall recall) {
            this.recall = Objects.requireNonNull(recall, "recall");
            return this;
        }

        /** Counts tokens for the budget; default {@link ChatMemoryTokenEstimator}. */
        public Builder tokenCountEstimator(TokenCountEstimator estimator) {
            this.tokens = Objects.requireNonNull(estimator, "tokenCountEstimator");
            return this;
        }

        /** Older messages kept for recall at most, {@code >= 1}; default {@value CompressedChatMemory#DEFAULT_ARCHIVE_CAPACITY}. */
        public Builder archiveCapacity(int archiveCapacity) {
            if (archiveCapacity < 1) {
                throw new IllegalArgumentException("archiveCapacity must be >= 1, got " + archiveCapacity);
            }
            this.archiveCapacity = archiveCapacity;
            return this;
        }

        /**
         * Runs the archive's ops (placed by its plan, rerun on the CPU after a device fault, recorded in its profile);
         * default: an engine from {@link dev.mempipe.spi.Backends}, as {@link MempipeEmbeddingStore}'s default.
         */
        public Builder engine(Engine engine) {
            this.engine = Objects.requireNonNull(engine, "engine");
            return this;
        }

        /**
         * @throws IllegalStateException when the model or the budget is missing, or {@code recallTokens} is not
         *                               below {@code maxTokens}
         */
        public CompressedChatMemory build() {
            if (model == null) {
                throw new IllegalStateException("embeddingModel is required");
            }
            if (maxTokens < 1) {
                throw new IllegalStateException("maxTokens is required");
            }
            if (recallTokens >= maxTokens) {
                throw new IllegalStateException("recallTokens must be < maxTokens (" + maxTokens + "), got "
                        + recallTokens);
            }
            return new CompressedChatMemory(this);
        }
    }
}
