package dev.mempipe.langchain4j;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.rag.content.Content;
import dev.langchain4j.rag.content.ContentMetadata;
import dev.langchain4j.rag.content.retriever.ContentRetriever;
import dev.langchain4j.rag.query.Query;
import dev.langchain4j.store.embedding.filter.Filter;
import dev.mempipe.core.memory.Bm25Memory;
import dev.mempipe.core.memory.Hits;
import dev.mempipe.core.memory.SimpleTokenizer;
import dev.mempipe.core.engine.Engine;
import dev.mempipe.spi.Bm25Params;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Lexical retrieval: {@link TextSegment}s indexed by their text with mempipe's BM25 ({@link Bm25Memory} and its
 * {@link SimpleTokenizer}: lowercased words, no stemming), searched for the {@code maxResults} segments of highest
 * BM25 score. Segments are added with {@link #add} / {@link #addAll}, for example the same ones given to the
 * embedding store behind a {@link DenseRetriever}, so that a {@link HybridRetriever} can fuse the two.
 *
 * <p>Each {@link Content} carries {@link ContentMetadata#SCORE}, the BM25 score. Segments that share no word
 * with the query score 0 and are never returned; a query with no indexed word returns nothing.
 *
 * <p>Capacity grows: the index starts with room for a few documents and, when an add does not fit, moves to a
 * new memory of twice the room (the term ids are copied, not re-tokenized). Its off-heap buffers come from an
 * automatic arena, freed when the retriever (and every view of it) is unreachable; nothing needs closing.
 *
 * <p>Thread-safe: adds and searches may run concurrently; adds are serialized and a search sees each add whole.
 * {@link #withMaxResults} gives a view with other settings over the same index (adds through either are seen
 * by both).
 */
public final class Bm25Retriever implements ContentRetriever {
    /** Results when the builder is not told otherwise. */
    public static final int DEFAULT_MAX_RESULTS = 3;

    private final SegmentIndex index;
    private final int maxResults;
    private final double minScore;
    private final Filter filter; // null: every segment qualifies

    private Bm25Retriever(SegmentIndex index, int maxResults, double minScore, Filter filter) {
        this.index = index;
        this.maxResults = maxResults;
        this.minScore = minScore;
        this.filter = filter;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A retriever with the default settings over {@code segments}. */
    public static Bm25Retriever from(List<TextSegment> segments) {
        Bm25Retriever retriever = builder().build();
        retriever.addAll(segments);
        return retriever;
    }

    /** A view with {@code maxResults} and this retriever's other settings, over the same index. */
    public Bm25Retriever withMaxResults(int maxResults) {
        return new Bm25Retriever(index, RetrieverArgs.maxResults(maxResults), minScore, filter);
    }

    /**
     * Indexes one segment.
     *
     * @return its document number: 0 for the first segment added, then consecutive
     */
    public int add(TextSegment segment) {
        return addAll(List.of(Objects.requireNonNull(segment, "segment")));
    }

    /**
     * Indexes {@code segments}, in order.
     *
     * @return the document number of the first (the others follow); the current count when the list is empty
     */
    public int addAll(List<TextSegment> segments) {
        Objects.requireNonNull(segments, "segments");
        for (int i = 0; i < segments.size(); i++) {
            if (segments.get(i) == null) {
                throw new IllegalArgumentException("segments[" + i + "] is null");
            }
        }
        return index.addAll(segments);
    }

    @Override
    public List<Content> retrieve(Query query) {
        Objects.requireNonNull(query, "query");
        return index.search(query.text(), maxResults, minScore, filter);
    }

    /** Segments indexed. */
    public int size() {
        return index.size();
    }

    public int maxResults() {
        return maxResults;
    }

    @Override
    public String toString() {
        return "Bm25Retriever[segments=" + size() + ", maxResults=" + maxResults + ", minScore=" + minScore
                + ", filter=" + filter + "]";
    }

    /** Settings of a {@link Bm25Retriever}; every one has a default. */
    public static final class Builder {
        private Engine engine;
        private Bm25Params params = Bm25Params.DEFAULT;
        private int maxResults = DEFAULT_MAX_RESULTS;
        private double minScore = 0;
        private Filter filter;
        private int initialSegments = 1024;
        private int initialTokens = 1 << 16;

        private Builder() {
        }

        /**
         * Runs the BM25 ops (placed by its plan, rerun on the CPU after a device fault, recorded in its profile);
         * default: an engine from {@link dev.mempipe.spi.Backends}, as {@link MempipeEmbeddingStore}'s default.
         */
        public Builder engine(Engine engine) {
            this.engine = Objects.requireNonNull(engine, "engine");
            return this;
        }

        /** k1, b and the idf variant; default {@link Bm25Params#DEFAULT} (k1 1.2, b 0.75, Lucene idf). */
        public Builder params(Bm25Params params) {
            this.params = Objects.requireNonNull(params, "params");
            return this;
        }

        /** Results at most, {@code >= 1}; default {@value Bm25Retriever#DEFAULT_MAX_RESULTS}. */
        public Builder maxResults(int maxResults) {
            this.maxResults = RetrieverArgs.maxResults(maxResults);
            return this;
        }

        /** The lowest BM25 score returned, {@code >= 0}; default 0 (any segment sharing a word with the query). */
        public Builder minScore(double minScore) {
            this.minScore = RetrieverArgs.minScore(minScore);
            return this;
        }

        /** Only segments whose metadata passes {@code filter}; null (the default) for all. */
        public Builder filter(Filter filter) {
            this.filter = filter;
            return this;
        }

        /**
         * The room the index starts with (it doubles when full): a hint that saves copies when the corpus size
         * is known. Defaults: 1024 segments, 65536 words.
         */
        public Builder initialCapacity(int segments, int words) {
            if (segments < 1 || words < 1) {
                throw new IllegalArgumentException("initial capacity must be >= 1 segment and >= 1 word, got "
                        + segments + " segments, " + words + " words");
            }
            this.initialSegments = segments;
            this.initialTokens = words;
            return this;
        }

        public Bm25Retriever build() {
            Engine e = engine != null ? engine : MempipeEmbeddingStore.defaultEngine();
            return new Bm25Retriever(new SegmentIndex(e, params, initialSegments, initialTokens), maxResults,
                    minScore, filter);
        }
    }

    /** The index shared by a retriever and its views: segments by document number, and their BM25 memory. */
    private static final class SegmentIndex {
        private final Engine engine;
        private final Bm25Params params;
        private final SimpleTokenizer tokenizer = new SimpleTokenizer(); // kept across growth: term ids stay valid
        private final ReadWriteLock lock = new ReentrantReadWriteLock();
        private final List<TextSegment> segments = new ArrayList<>(); // document number -> segment
        private Bm25Memory memory;

        SegmentIndex(Engine engine, Bm25Params params, int segments, int tokens) {
            this.engine = engine;
            this.params = params;
            this.memory = newMemory(segments, tokens);
        }

        int addAll(List<TextSegment> added) {
            // tokenize outside the lock: the tokenizer is thread-safe and this is the slow part
            List<int[]> terms = added.stream().map(s -> tokenizer.tokenize(s.text())).toList();
            lock.writeLock().lock();
            try {
                int first = segments.size();
                for (int i = 0; i < added.size(); i++) {
                    ensureRoom(terms.get(i).length);
                    memory.append(terms.get(i));
                    segments.add(added.get(i));
                }
                return first;
            } finally {
                lock.writeLock().unlock();
            }
        }

        List<Content> search(String text, int maxResults, double minScore, Filter filter) {
            int[] queryTerms = tokenizer.lookup(text);
            lock.readLock().lock();
            try {
                int n = memory.documentCount();
                if (n == 0 || queryTerms.length == 0) {
                    return List.of();
                }
                // with a filter the best matches may all be filtered out: rank every document, then filter
                Hits hits = memory.search(queryTerms, filter == null ? Math.min(maxResults, n) : n, params);
                List<Content> contents = new ArrayList<>();
                for (int rank = 0; rank < hits.size() && contents.size() < maxResults; rank++) {
                    float score = hits.score(rank);
                    if (score <= 0 || score < minScore) {
                        break; // best first: the rest score no higher
                    }
                    TextSegment segment = segments.get(hits.id(rank));
                    if (filter == null || filter.test(segment.metadata())) {
                        contents.add(Content.from(segment, Map.of(ContentMetadata.SCORE, (double) score)));
                    }
                }
                return contents;
            } finally {
                lock.readLock().unlock();
            }
        }

        int size() {
            lock.readLock().lock();
            try {
                return segments.size();
            } finally {
                lock.readLock().unlock();
            }
        }

        /** Moves to a memory of twice the room when one more document of {@code words} terms does not fit. */
        private void ensureRoom(int words) {
            int docs = memory.documentCount();
            int used = memory.tokenCount();
            if (docs < memory.maxDocuments() && words <= memory.maxTokens() - used) {
                return;
            }
            int maxDocs = docs < memory.maxDocuments() ? memory.maxDocuments() : grow(memory.maxDocuments(), docs + 1);
            int maxTokens = words <= memory.maxTokens() - used ? memory.maxTokens()
                    : grow(memory.maxTokens(), (long) used + words);
            Bm25Memory larger = newMemory(maxDocs, maxTokens);
            for (int d = 0; d < docs; d++) {
                larger.append(memory.document(d));
            }
            memory = larger;
        }

        private static int grow(int current, long needed) {
            long size = Math.max(needed, 2L * current);
            // Bm25Memory needs maxDocuments + 1 offsets in an int-indexed buffer
            if (size >= Integer.MAX_VALUE) {
                if (needed >= Integer.MAX_VALUE) {
                    throw new IllegalStateException("Bm25Retriever cannot hold more than " + (Integer.MAX_VALUE - 1)
                            + " segments or words; needs " + needed);
                }
                size = Integer.MAX_VALUE - 1;
            }
            return (int) size;
        }

        /**
         * An automatic arena: the buffers must be reachable from the backend's pool threads (so not confined),
         * and a retriever has no close in LangChain4j's API, so the garbage collector frees a replaced memory.
         */
        private Bm25Memory newMemory(int maxDocuments, int maxTokens) {
            return new Bm25Memory(Arena.ofAuto(), engine, maxDocuments, maxTokens, tokenizer);
        }
    }
}
