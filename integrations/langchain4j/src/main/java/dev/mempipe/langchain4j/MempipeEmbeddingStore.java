package dev.mempipe.langchain4j;

import dev.langchain4j.data.document.Metadata;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.store.embedding.EmbeddingMatch;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.EmbeddingSearchResult;
import dev.langchain4j.store.embedding.EmbeddingStore;
import dev.langchain4j.store.embedding.RelevanceScore;
import dev.langchain4j.store.embedding.filter.Filter;
import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.EmbeddingRows;
import dev.mempipe.core.memory.EmbeddingScan;
import dev.mempipe.core.memory.Hits;
import dev.mempipe.core.memory.HnswIndex;
import dev.mempipe.core.memory.HnswSettings;
import dev.mempipe.core.profile.EnergyMeter;
import dev.mempipe.spi.Backends;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Step;
import dev.mempipe.spi.io.AtomicFile;
import org.apache.lucene.util.Bits;
import org.apache.lucene.util.FixedBitSet;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A LangChain4j {@link EmbeddingStore} of {@link TextSegment}s whose vectors live off-heap and are searched with
 * mempipe's SIMD ops.
 *
 * <p><b>Search.</b> Exact by default: one fused {@code dotTopK} over every row (the unit query's dot with each row
 * times the row's kept inverse norm, the top k kept during the scan; the Vector API on the CPU,
 * {@link EmbeddingScan}). With {@link Builder#approximate} a Lucene HNSW graph answers instead (see {@link HnswIndex} for how filters are applied during the graph walk and when it
 * falls back to the exact scan). Scores follow LangChain4j: {@code (cos + 1) / 2}; matches come best first, ties in
 * the order the entries were added; {@code minScore} is inclusive; a {@link Filter} is tested on the segment's
 * metadata, and an entry added without a segment is tested as empty metadata. {@link #searchAll} answers many
 * requests with a blocked matrix kernel, each with exactly {@link #search}'s result.
 *
 * <p><b>Engine.</b> Every op runs through the {@link Engine} the builder was given (default: one built from
 * {@link Backends}, so {@code -Dmempipe.backend=NAME} is honoured): it places each step on the device its plan
 * names, reruns a step on the CPU when a device fails, and records it in its profile ({@link #engine()}). The
 * vectors are pinned on the device planned for the Relevancy step (see {@link EmbeddingRows}).
 *
 * <p><b>Storage.</b> The vectors are {@link EmbeddingRows}, the representation core's {@code EmbeddingMemory} uses
 * too: kept as given (converted to the storage type) with one inverse norm per row. {@link ElementType#F32} keeps
 * every embedding bit for bit; {@link ElementType#BF16} halves the
 * bytes scanned, {@link ElementType#I8} quarters them (per-row symmetric quantization); matches then carry the
 * decoded vector. Capacity doubles as needed; removed entries are tombstones until more than half the rows are dead,
 * when the rows are compacted (in order) and, for an approximate store, the graph is rebuilt then.
 *
 * <p><b>Input.</b> An add is checked whole before anything is stored, so a batch with one bad element adds nothing:
 * null or blank ids, ids repeated in the batch or already stored, null embeddings or segments, a dimension other than
 * the store's (fixed by the builder or by the first add), NaN or infinite elements, and norms outside
 * {@code [2^-60, 2^60]} (other than zero) fail with an {@link IllegalArgumentException} naming the position.
 *
 * <p><b>Thread-safety.</b> Safe for concurrent use: adds, removals and {@link #close} take a write lock, searches
 * and {@link #save} a read lock, so searches run in parallel with one another and never see half an add.
 * Approximate searches too: each walks the graph with a cursor of its own.
 *
 * <p><b>The graph of an approximate store</b> is built when rows arrive, never by a search: each add inserts its
 * rows (a batch of at least {@link HnswIndex#PARALLEL_MIN_ROWS} on {@link HnswSettings#buildThreads()} threads,
 * every core by default), a compaction and a {@link Builder#load} rebuild it, all inside the add's (or the
 * removal's) write lock.
 *
 * <p><b>Backed.</b> With {@link Builder#backedBy} the entries live in an {@link EmbeddingStoreBacking} (for example a
 * Hazelcast cluster, module {@code mempipe-hazelcast}) instead of this store's rows: the store checks every argument
 * as above and hands the rest to the backing; {@link #save} is not available.
 *
 * <p>{@link #searchAsync} keeps the interface's default: a search here is in-process CPU work, not I/O, so LangChain4j
 * runs {@link #search} on its own executor, which is what a hand-written async wrapper would do.
 */
public final class MempipeEmbeddingStore implements EmbeddingStore<TextSegment>, AutoCloseable {
    private static final Metadata NO_METADATA = new Metadata(); // never handed out: filters only read it

    /** Individual step records the default engine keeps (its totals count every search). */
    static final int DEFAULT_ENGINE_RECORDS = 1024;

    private final Engine engine;
    private final ElementType storage;
    private final HnswSettings hnsw; // null: exact search
    private final EmbeddingStoreBacking backing; // null: the entries live in this store's rows
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final Entries entries = new Entries();
    private final AcceptCache acceptCache = new AcceptCache();
    private int dimension;     // 0 until fixed
    private EmbeddingRows rows; // null until the dimension is fixed
    private HnswIndex graph;   // null for an exact store, or until rows exist
    private boolean closed;

    private MempipeEmbeddingStore(Builder builder) {
        this.engine = builder.engine != null ? builder.engine : defaultEngine();
        this.storage = builder.storage;
        this.hnsw = builder.hnsw;
        this.dimension = builder.dimension;
        this.backing = builder.backing;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * An engine from {@link Backends} (the SIMD backend, and the {@code -Dmempipe.backend} device if one is named),
     * keeping the last {@value #DEFAULT_ENGINE_RECORDS} step records (a store may run millions of steps) and no
     * energy readings (RAPL is read from files, twice per step: a cost beside a graph search of a tenth of a
     * millisecond, and a store's searches overlap, so one search's joules cannot be told apart anyway).
     */
    static Engine defaultEngine() {
        return Engine.builder().maxRecords(DEFAULT_ENGINE_RECORDS)
                .energyMeter(EnergyMeter.unavailable("not metered by the store's default engine")).build();
    }

    /** Loads a store saved with {@link #save}: exact search, the default engine. */
    public static MempipeEmbeddingStore load(Path file) throws IOException {
        return builder().load(file);
    }

    // ---- add ----

    @Override
    public String add(Embedding embedding) {
        String id = UUID.randomUUID().toString();
        insert(List.of(id), nullable(embedding), null, true);
        return id;
    }

    @Override
    public void add(String id, Embedding embedding) {
        insert(nullable(id), nullable(embedding), null, true);
    }

    /** Stores the embedding with its segment; {@code segment} must not be null (use {@link #add(Embedding)}). */
    @Override
    public String add(Embedding embedding, TextSegment segment) {
        String id = UUID.randomUUID().toString();
        insert(List.of(id), nullable(embedding), nullable(segment), true);
        return id;
    }

    @Override
    public List<String> addAll(List<Embedding> embeddings) {
        return addAll(embeddings, null);
    }

    @Override
    public List<String> addAll(List<Embedding> embeddings, List<TextSegment> embedded) {
        List<String> ids = generateIds(embeddings == null ? 0 : embeddings.size());
        addAll(ids, embeddings, embedded);
        return ids;
    }

    /**
     * Adds {@code embeddings} under {@code ids}, with their segments ({@code embedded} may be null: none). All or
     * nothing: one bad element fails the call and nothing is added. Empty (or null) lists add nothing.
     *
     * @throws IllegalArgumentException when the lists differ in size or an element is bad (see the class comment)
     */
    @Override
    public void addAll(List<String> ids, List<Embedding> embeddings, List<TextSegment> embedded) {
        int idCount = ids == null ? 0 : ids.size();
        int embeddingCount = embeddings == null ? 0 : embeddings.size();
        if (idCount != embeddingCount) {
            throw new IllegalArgumentException("ids size (" + idCount + ") is not equal to embeddings size ("
                    + embeddingCount + ")");
        }
        if (embedded != null && embedded.size() != embeddingCount) {
            throw new IllegalArgumentException("embeddings size (" + embeddingCount + ") is not equal to embedded size ("
                    + embedded.size() + ")");
        }
        if (embeddingCount == 0) {
            return;
        }
        insert(ids, embeddings, embedded, false);
    }

    /** Checks the whole batch, then stores it; {@code single}: name arguments as a one-element add does. */
    private void insert(List<String> ids, List<Embedding> embeddings, List<TextSegment> segments, boolean single) {
        List<String> idCopy = new ArrayList<>(ids);            // the caller may change its lists afterwards
        List<Embedding> embeddingCopy = new ArrayList<>(embeddings);
        List<TextSegment> segmentCopy = segments == null ? null : new ArrayList<>(segments);
        if (single) {
            if (idCopy.getFirst() == null || idCopy.getFirst().isBlank()) {
                throw new IllegalArgumentException("id cannot be null or blank");
            }
            if (segmentCopy != null && segmentCopy.getFirst() == null) {
                throw new IllegalArgumentException("segment is null; use add(Embedding) for an embedding without one");
            }
        }
        InputChecks.segments(segmentCopy);
        Lock write = lock.writeLock();
        write.lock();
        try {
            ensureOpen();
            int d = dimension;
            if (d == 0 && backing != null) {
                d = backing.dimension(); // fixed by another store on the same backing
            }
            if (d == 0 && embeddingCopy.getFirst() != null) {
                d = embeddingCopy.getFirst().vector().length; // the first add fixes the dimension
            }
            float[][] raw = new float[embeddingCopy.size()][];
            for (int i = 0; i < raw.length; i++) {
                raw[i] = InputChecks.vector(single ? "embedding" : "embeddings[" + i + "]", embeddingCopy.get(i), d);
            }
            InputChecks.ids(idCopy, entries);
            if (backing != null) {
                backing.add(idCopy, List.of(raw), segmentCopy == null ? null : copies(segmentCopy));
                dimension = d;
                return;
            }
            // every check passed: from here on the batch goes in whole
            int dimensionBefore = dimension;
            boolean created = rows == null;
            if (created) {
                dimension = d;
                rows = EmbeddingRows.growable(engine, storage, d);
                graph = hnsw == null ? null : new HnswIndex(rows, hnsw);
            }
            int before = rows.rows();
            try {
                rows.append(raw); // may be refused by the memory budget before it allocates
            } catch (RuntimeException | Error e) {
                if (created) { // as if the add had not happened: the dimension is not fixed by it
                    rows.close();
                    rows = null;
                    graph = null;
                    dimension = dimensionBefore;
                }
                throw e;
            }
            try {
                entries.append(idCopy, segmentCopy == null ? null : copies(segmentCopy));
            } catch (RuntimeException | Error e) {
                rows.truncate(before, before);
                throw e;
            }
            extendGraph(); // the entries are in: a failure here leaves rows the exact scan still answers for
        } finally {
            write.unlock();
        }
    }

    // ---- remove ----

    @Override
    public void remove(String id) {
        if (id == null || id.isBlank()) {
            throw new IllegalArgumentException("id cannot be null or blank");
        }
        removeAll(List.of(id));
    }

    /** Removes the entries with these ids; ids not in the store are ignored; null or empty removes nothing. */
    @Override
    public void removeAll(Collection<String> ids) {
        if (ids == null || ids.isEmpty()) {
            return;
        }
        List<String> idList = new ArrayList<>(ids);
        for (int i = 0; i < idList.size(); i++) {
            if (idList.get(i) == null || idList.get(i).isBlank()) {
                throw new IllegalArgumentException("ids holds a " + (idList.get(i) == null ? "null" : "blank")
                        + " id at position " + i + "; nothing was removed");
            }
        }
        Lock write = lock.writeLock();
        write.lock();
        try {
            ensureOpen();
            if (backing != null) {
                backing.remove(idList);
                return;
            }
            for (String id : idList) {
                int row = entries.rowOf(id);
                if (row >= 0) {
                    entries.kill(row);
                }
            }
            compactIfMostlyDead();
        } finally {
            write.unlock();
        }
    }

    /** Removes every entry whose metadata the filter accepts (entries without a segment are tested as empty). */
    @Override
    public void removeAll(Filter filter) {
        if (filter == null) {
            throw new IllegalArgumentException("filter cannot be null");
        }
        Lock write = lock.writeLock();
        write.lock();
        try {
            ensureOpen();
            if (backing != null) {
                backing.removeAll(filter);
                return;
            }
            FixedBitSet matching = accepted(filter); // first test all, so that a filter that throws removes nothing
            for (int row = 0; row < entries.rows(); row++) {
                if (matching.get(row)) {
                    entries.kill(row);
                }
            }
            compactIfMostlyDead();
        } finally {
            write.unlock();
        }
    }

    /** Removes every entry and releases the off-heap memory; the dimension stays fixed. */
    @Override
    public void removeAll() {
        Lock write = lock.writeLock();
        write.lock();
        try {
            ensureOpen();
            if (backing != null) {
                backing.removeAll();
                return;
            }
            entries.clear();
            if (rows != null) {
                rows.clear();
            }
            if (graph != null) {
                graph.reset();
            }
        } finally {
            write.unlock();
        }
    }

    /**
     * Compacts when more than half the rows are dead: the survivors move down in order (ties keep their order), so
     * a scan reads at most twice the live rows and the cost is amortized over the removals that made them dead.
     */
    private void compactIfMostlyDead() {
        if (entries.deadCount() == 0 || 2L * entries.deadCount() <= entries.rows()) {
            return;
        }
        int to = 0;
        int firstMoved = Integer.MAX_VALUE;
        for (int row = 0; row < entries.rows(); row++) {
            if (entries.isLive(row)) {
                if (row != to) {
                    rows.moveRow(row, to);
                    firstMoved = Math.min(firstMoved, to);
                }
                entries.moveRow(row, to);
                to++;
            }
        }
        rows.truncate(to, firstMoved);
        entries.truncateToLive();
        if (graph != null) {
            graph.reset(); // rows were renumbered
            extendGraph();
        }
    }

    /** Inserts the rows not yet in the graph of an approximate store (one Prepare step); under the write lock. */
    private void extendGraph() {
        if (graph == null || rows.rows() <= graph.nodes()) {
            return;
        }
        int n = rows.rows();
        engine.runVoid(Step.PREPARE, "hnswBuild", graph.walkCost(n - graph.nodes(), n, storage,
                graph.settings().beamWidth(), 0), graph::extend);
    }

    // ---- search ----

    /**
     * The request's best matches, best first. Approximate when the store was built with
     * {@link Builder#approximate}, exact otherwise.
     *
     * @throws IllegalArgumentException when the query has the wrong dimension or is not finite
     */
    @Override
    public EmbeddingSearchResult<TextSegment> search(EmbeddingSearchRequest request) {
        Objects.requireNonNull(request, "request");
        Lock read = lock.readLock();
        read.lock();
        try {
            ensureOpen();
            if (backing != null) {
                return backedSearch(request, "queryEmbedding");
            }
            if (entries.liveCount() == 0) {
                return new EmbeddingSearchResult<>(List.of());
            }
            float[] query = InputChecks.vector("queryEmbedding", request.queryEmbedding(), dimension);
            Bits accept = accept(request.filter());
            int accepted = accept == null ? entries.rows() : cardinality(accept);
            if (accepted == 0) {
                return new EmbeddingSearchResult<>(List.of());
            }
            int k = request.maxResults();
            Hits hits = graph == null ? null : engine.run(Step.RETRIEVAL, "ann",
                    graph.searchCost(1, rows.rows(), storage, graph.settings().searchBeamWidth(), k),
                    b -> graph.search(b, query, k, accept, accepted));
            if (hits == null) {
                hits = EmbeddingScan.search(engine, rows, new float[][] {query}, new int[] {k},
                        new Bits[] {accept}).getFirst();
            }
            return result(rowHits(hits), request.minScore());
        } finally {
            read.unlock();
        }
    }

    /**
     * Answers many requests exactly, one fused {@code dotTopK} per distinct filter: for multi-query RAG, re-ranking,
     * or evaluating a batch. On the CPU a batch is a blocked matrix kernel (a block of rows read from memory once
     * and scored against every request from cache) with each request's top k kept as it goes. Each request keeps
     * its own {@code maxResults}, {@code minScore} and filter; the results are in the order of the requests and are
     * what {@link #search} returns on an exact store, scores to the bit (a request is scored with the same
     * arithmetic alone and in a batch). Always exact, also on an approximate store.
     */
    public List<EmbeddingSearchResult<TextSegment>> searchAll(List<EmbeddingSearchRequest> requests) {
        Objects.requireNonNull(requests, "requests");
        List<EmbeddingSearchRequest> batch = new ArrayList<>(requests);
        for (int j = 0; j < batch.size(); j++) {
            if (batch.get(j) == null) {
                throw new IllegalArgumentException("requests[" + j + "] is null");
            }
        }
        Lock read = lock.readLock();
        read.lock();
        try {
            ensureOpen();
            List<EmbeddingSearchResult<TextSegment>> results = new ArrayList<>(batch.size());
            if (backing != null) {
                for (int j = 0; j < batch.size(); j++) {
                    results.add(backedSearch(batch.get(j), "requests[" + j + "].queryEmbedding"));
                }
                return results;
            }
            if (entries.liveCount() == 0) {
                batch.forEach(request -> results.add(new EmbeddingSearchResult<>(List.of())));
                return results;
            }
            float[][] queries = new float[batch.size()][];
            int[] k = new int[batch.size()];
            Bits[] accept = new Bits[batch.size()];
            Map<Filter, Bits> byFilter = new HashMap<>(); // a filter shared by requests is tested once per row
            for (int j = 0; j < batch.size(); j++) {
                EmbeddingSearchRequest request = batch.get(j);
                queries[j] = InputChecks.vector("requests[" + j + "].queryEmbedding", request.queryEmbedding(),
                        dimension);
                k[j] = request.maxResults();
                accept[j] = request.filter() == null ? accept(null) : byFilter.computeIfAbsent(request.filter(),
                        this::accept);
            }
            List<Hits> hits = EmbeddingScan.search(engine, rows, queries, k, accept);
            for (int j = 0; j < batch.size(); j++) {
                results.add(result(rowHits(hits.get(j)), batch.get(j).minScore()));
            }
            return results;
        } finally {
            read.unlock();
        }
    }

    /** A search of the backing, with the query checked as {@link #search} checks it. */
    private EmbeddingSearchResult<TextSegment> backedSearch(EmbeddingSearchRequest request, String name) {
        int d = dimension != 0 ? dimension : backing.dimension();
        if (d == 0) {
            return new EmbeddingSearchResult<>(List.of()); // nothing was ever added
        }
        InputChecks.vector(name, request.queryEmbedding(), d);
        return backing.search(request);
    }

    /** Hits (row numbers and cosines, best first) as row hits. */
    private static List<RowHit> rowHits(Hits hits) {
        List<RowHit> out = new ArrayList<>(hits.size());
        for (int rank = 0; rank < hits.size(); rank++) {
            out.add(new RowHit(hits.id(rank), hits.score(rank)));
        }
        return out;
    }

    /** The rows a search may return: null for all rows, else the live rows the filter accepts. */
    private Bits accept(Filter filter) {
        if (filter == null) {
            return entries.deadCount() == 0 ? null : entries.liveRows();
        }
        return acceptCache.accepted(filter, entries.version(), () -> accepted(filter));
    }

    /** The live rows whose metadata {@code filter} accepts. */
    private FixedBitSet accepted(Filter filter) {
        FixedBitSet bits = new FixedBitSet(Math.max(1, entries.rows()));
        for (int row = 0; row < entries.rows(); row++) {
            if (entries.isLive(row)) {
                TextSegment segment = entries.segment(row);
                if (filter.test(segment == null ? NO_METADATA : segment.metadata())) {
                    bits.set(row);
                }
            }
        }
        return bits;
    }

    private int cardinality(Bits bits) {
        return bits == entries.liveRows() ? entries.liveCount() : ((FixedBitSet) bits).cardinality();
    }

    private EmbeddingSearchResult<TextSegment> result(List<RowHit> hits, double minScore) {
        List<EmbeddingMatch<TextSegment>> matches = new ArrayList<>(hits.size());
        for (RowHit hit : hits) {
            double score = RelevanceScore.fromCosineSimilarity(hit.cosine());
            if (score < minScore) {
                break; // best first: the rest score lower
            }
            TextSegment segment = entries.segment(hit.row());
            matches.add(new EmbeddingMatch<>(score, entries.id(hit.row()), new Embedding(rows.read(hit.row())),
                    segment == null ? null : copy(segment)));
        }
        return new EmbeddingSearchResult<>(matches);
    }

    // ---- persistence ----

    /**
     * Saves the live entries to {@code file} (format: {@link StoreFile}), replacing it atomically: a crash or a
     * failure during the save leaves the previous file as it was. Adds and removals wait until the save is done.
     * The HNSW graph is not saved; an approximate store rebuilds it when it loads the file.
     */
    public void save(Path file) throws IOException {
        save(file, SectionWriter.WriteBudget.UNLIMITED);
    }

    /** {@link #save(Path)} that fails once {@code budget} runs out, for the tests of a save cut short. */
    void save(Path file, SectionWriter.WriteBudget budget) throws IOException {
        save(file, budget, AtomicFile.StepListener.NONE);
    }

    /** {@link #save(Path, SectionWriter.WriteBudget)} telling {@code steps} each step of the write: crash tests. */
    void save(Path file, SectionWriter.WriteBudget budget, AtomicFile.StepListener steps) throws IOException {
        Objects.requireNonNull(file, "file");
        if (backing != null) {
            throw new UnsupportedOperationException("save writes the entries this store holds; this one is backed by "
                    + backing + ", which keeps them (see that backing's documentation for how it is reloaded)");
        }
        Lock read = lock.readLock();
        read.lock();
        try {
            ensureOpen();
            StoreFile.save(file, dimension, storage, rows, entries, budget, steps);
        } finally {
            read.unlock();
        }
    }

    private void adopt(StoreFile.Contents contents) {
        if (contents.dimension() == 0) {
            contents.rows().close();
            return;
        }
        dimension = contents.dimension();
        rows = contents.rows();
        entries.append(contents.ids(), contents.segments());
        graph = hnsw == null ? null : new HnswIndex(rows, hnsw);
        extendGraph();
    }

    // ---- state ----

    /** Live entries. */
    public int size() {
        Lock read = lock.readLock();
        read.lock();
        try {
            return backing != null ? backing.size() : entries.liveCount();
        } finally {
            read.unlock();
        }
    }

    /** The embeddings' dimension; 0 while neither the builder nor an add has fixed it. */
    public int dimension() {
        Lock read = lock.readLock();
        read.lock();
        try {
            return dimension != 0 || backing == null ? dimension : backing.dimension();
        } finally {
            read.unlock();
        }
    }

    public ElementType storage() {
        return storage;
    }

    /** Whether searches go through an HNSW graph. */
    public boolean isApproximate() {
        return hnsw != null;
    }

    /** The engine that runs this store's ops: its {@link Engine#report()} holds the store's steps. */
    public Engine engine() {
        return engine;
    }

    /** Searches answered through the graph and searches that fell back to the exact scan (approximate stores). */
    long[] graphCounters() {
        if (graph == null) {
            return new long[2];
        }
        HnswIndex.Counts counts = graph.counts();
        return new long[] {counts.graphSearches(), counts.exactFallbacks()};
    }

    /** Releases the off-heap memory; any later call fails with {@link IllegalStateException}. Idempotent. */
    @Override
    public void close() {
        Lock write = lock.writeLock();
        write.lock();
        try {
            if (!closed) {
                closed = true;
                if (backing != null) {
                    backing.close();
                }
                if (rows != null) {
                    rows.close();
                }
                entries.clear();
            }
        } finally {
            write.unlock();
        }
    }

    @Override
    public String toString() {
        return "MempipeEmbeddingStore[" + (backing != null ? "backed by " + backing
                : (hnsw == null ? "exact" : "hnsw") + ", " + storage) + ", d=" + dimension + "]";
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("this MempipeEmbeddingStore is closed");
        }
    }

    private static <T> List<T> nullable(T element) {
        List<T> list = new ArrayList<>(1);
        list.add(element);
        return list;
    }

    private static List<TextSegment> copies(List<TextSegment> segments) {
        List<TextSegment> out = new ArrayList<>(segments.size());
        for (TextSegment segment : segments) {
            out.add(copy(segment));
        }
        return out;
    }

    /** Metadata is mutable: the store keeps and hands out copies, so no caller can change a stored entry. */
    private static TextSegment copy(TextSegment segment) {
        return TextSegment.from(segment.text(), segment.metadata().copy());
    }

    /**
     * Configures a store. Every setting has a default: any dimension (fixed by the first add), F32 storage, exact
     * search, an engine from {@link Backends} (the SIMD backend as the CPU; the backend {@code -Dmempipe.backend}
     * names, if any, as the device every step is planned on).
     */
    public static final class Builder {
        private int dimension;
        private boolean storageSet;
        private ElementType storage = ElementType.F32;
        private HnswSettings hnsw;
        private Engine engine;
        private EmbeddingStoreBacking backing;

        private Builder() {
        }

        /** Fixes the embeddings' dimension (otherwise the first add fixes it). */
        public Builder dimension(int dimension) {
            if (dimension < 1) {
                throw new IllegalArgumentException("dimension must be >= 1, got " + dimension);
            }
            this.dimension = dimension;
            return this;
        }

        /**
         * How vectors are stored: {@link ElementType#F32} (default, exact embeddings back), {@link ElementType#BF16}
         * (half the bytes) or {@link ElementType#I8} (a quarter, per-row scale); F16 and I16 work as well.
         */
        public Builder storage(ElementType storage) {
            this.storage = Objects.requireNonNull(storage, "storage");
            this.storageSet = true;
            return this;
        }

        /** Searches through a Lucene HNSW graph with these settings instead of the exact scan. */
        public Builder approximate(HnswSettings settings) {
            this.hnsw = Objects.requireNonNull(settings, "settings");
            return this;
        }

        /** Searches exactly (the default). */
        public Builder exact() {
            this.hnsw = null;
            return this;
        }

        /**
         * The engine that places and runs the store's ops and records them; the caller keeps owning its backends
         * (the store closes none). Several stores may share one engine (it is thread-safe).
         */
        public Builder engine(Engine engine) {
            this.engine = Objects.requireNonNull(engine, "engine");
            return this;
        }

        /**
         * Keeps the entries in {@code backing} (a cluster, say) instead of this store's own rows; the store checks
         * arguments and delegates. Storage, search kind and engine are then the backing's to choose: setting them
         * here too is an error. The store closes the backing when it is closed.
         */
        public Builder backedBy(EmbeddingStoreBacking backing) {
            this.backing = Objects.requireNonNull(backing, "backing");
            return this;
        }

        /** @throws IllegalArgumentException when {@link #backedBy} is combined with storage, approximate or engine */
        public MempipeEmbeddingStore build() {
            if (backing != null && (storageSet || hnsw != null || engine != null)) {
                throw new IllegalArgumentException("a store backed by " + backing + " takes its storage, search kind"
                        + " and engine from the backing; do not set storage, approximate or engine as well");
            }
            return new MempipeEmbeddingStore(this);
        }

        /**
         * A store with this builder's search settings holding what {@code file} holds. The dimension and storage
         * come from the file; when this builder set them too, they must agree.
         *
         * @throws StoreFormatException     when the file is not a store file or is damaged (nothing is loaded)
         * @throws IllegalArgumentException when the file's dimension or storage differ from the builder's
         */
        public MempipeEmbeddingStore load(Path file) throws IOException {
            Objects.requireNonNull(file, "file");
            if (backing != null) {
                throw new IllegalArgumentException("load reads a file into the store's own rows; add its entries to"
                        + " the backed store instead");
            }
            Builder settings = copy();
            if (settings.engine == null) {
                settings.engine = defaultEngine();
            }
            StoreFile.Contents contents = StoreFile.load(file, settings.engine);
            try {
                if (dimension != 0 && contents.dimension() != 0 && contents.dimension() != dimension) {
                    throw new IllegalArgumentException(file + " holds " + contents.dimension()
                            + "-dimensional embeddings but the builder asks for " + dimension);
                }
                if (storageSet && contents.type() != storage) {
                    throw new IllegalArgumentException(file + " stores " + contents.type()
                            + " vectors but the builder asks for " + storage);
                }
                settings.storage = contents.type();
                settings.dimension = contents.dimension() != 0 ? contents.dimension() : dimension;
                MempipeEmbeddingStore store = new MempipeEmbeddingStore(settings);
                store.adopt(contents);
                return store;
            } catch (RuntimeException | Error e) {
                contents.rows().close();
                throw e;
            }
        }

        private Builder copy() {
            Builder b = new Builder();
            b.dimension = dimension;
            b.storageSet = storageSet;
            b.storage = storage;
            b.hnsw = hnsw;
            b.engine = engine;
            return b;
        }
    }
}
