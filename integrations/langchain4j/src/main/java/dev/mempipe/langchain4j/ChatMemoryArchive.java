package dev.mempipe.langchain4j;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.CompressedMemory;
import dev.mempipe.core.memory.Hits;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The older messages of a {@link CompressedChatMemory}: one summary embedding per message (its text embedded and
 * scaled to unit length, so that a dot product is a cosine) in core's {@link CompressedMemory}, and the messages
 * themselves in a ring of the same capacity, by sequence number. When full, the oldest message is forgotten, first
 * in first out, as in HMT's bounded memory. Only {@link ChatMemoryText#recallable} messages are kept.
 *
 * <p>Not thread-safe: its owner calls it under its own lock.
 */
final class ChatMemoryArchive {
    /** A message the archive offers for recall, with its summary's relevance (cosine or soft-read weight). */
    record Candidate(long sequence, double relevance, ChatMessage message, int tokens) {
    }

    private record Archived(ChatMessage message, int tokens) {
    }

    private final EmbeddingModel model;
    private final int dimension;
    private final CompressedMemory summaries; // [held, d] unit vectors, oldest first
    private final Archived[] messages;        // sequence % capacity

    /**
     * The summaries live in an automatic arena: reachable from the backend's pool threads, and freed by the
     * garbage collector, since a LangChain4j chat memory is never closed.
     */
    ChatMemoryArchive(Engine engine, EmbeddingModel model, int dimension, int capacity) {
        this.model = model;
        this.dimension = dimension;
        this.summaries = new CompressedMemory(Arena.ofAuto(), engine, dimension, capacity);
        this.messages = new Archived[capacity];
    }

    /** Archives the recallable ones of {@code evicted} (oldest first), with their token counts. */
    void archive(List<ChatMessage> evicted, List<Integer> tokens) {
        List<Integer> keep = new ArrayList<>();
        for (int i = 0; i < evicted.size(); i++) {
            if (ChatMemoryText.recallable(evicted.get(i))) {
                keep.add(i);
            }
        }
        if (keep.isEmpty()) {
            return;
        }
        List<TextSegment> texts = keep.stream().map(i -> TextSegment.from(ChatMemoryText.of(evicted.get(i)))).toList();
        List<Embedding> embeddings = model.embedAll(texts).content();
        if (embeddings.size() != texts.size()) {
            throw new IllegalStateException("the embedding model returned " + embeddings.size() + " embeddings for "
                    + texts.size() + " messages");
        }
        float[] rows = new float[keep.size() * dimension]; // (m, d)
        for (int r = 0; r < keep.size(); r++) {
            System.arraycopy(unit(embeddings.get(r).vector()), 0, rows, r * dimension, dimension);
        }
        long first = summaries.appended();
        try (Arena scratch = Arena.ofShared()) {
            summaries.append(Tensor.of(scratch, rows, keep.size(), dimension));
        }
        for (int r = 0; r < keep.size(); r++) {
            int i = keep.get(r);
            messages[(int) ((first + r) % messages.length)] = new Archived(evicted.get(i), tokens.get(i));
        }
    }

    /** The messages relevant to {@code query} (a unit vector) as {@code recall} reads them, most relevant first. */
    List<Candidate> candidates(float[] query, ChatMemoryRecall recall) {
        int held = summaries.size();
        if (held == 0) {
            return List.of();
        }
        List<Candidate> out = new ArrayList<>();
        try (Arena scratch = Arena.ofShared()) {
            Tensor q = Tensor.of(scratch, query, 1, dimension);
            switch (recall) {
                case ChatMemoryRecall.TopK topK -> {
                    // rank them all: the caller may skip some that do not fit its token budget
                    Hits hits = summaries.topK(q, held);
                    for (int rank = 0; rank < hits.size() && hits.score(rank) >= topK.minScore(); rank++) {
                        out.add(candidate(hits.id(rank), hits.score(rank)));
                    }
                }
                case ChatMemoryRecall.Soft soft -> {
                    Tensor blended = Tensor.allocate(scratch, ElementType.F32, 1, dimension); // HMT's o, unused here
                    float[] weights = summaries.softRead(q, soft.scale(), blended);
                    long first = summaries.appended() - weights.length;
                    for (int i = 0; i < weights.length; i++) {
                        if (weights[i] >= soft.minWeight()) {
                            out.add(candidate(first + i, weights[i]));
                        }
                    }
                    out.sort(Comparator.comparingDouble((Candidate c) -> -c.relevance())
                            .thenComparingLong(Candidate::sequence));
                }
            }
        }
        return out;
    }

    /** The held messages, oldest first. */
    List<ChatMessage> heldMessages() {
        int held = summaries.size();
        long first = summaries.appended() - held;
        List<ChatMessage> out = new ArrayList<>(held);
        for (long s = first; s < first + held; s++) {
            out.add(messages[(int) (s % messages.length)].message());
        }
        return out;
    }

    /** The held summaries {@code (held, d)}, oldest first, row-major. */
    float[] heldSummaries() {
        return summaries.summaries();
    }

    /**
     * Puts back messages with the summaries they were archived with (as a file holds them: unit rows, oldest first),
     * into an empty archive. Beyond its capacity the oldest are forgotten, as if they had been archived one by one.
     */
    void restore(float[] rows, List<ChatMessage> held, List<Integer> tokens) {
        if (summaries.appended() != 0) {
            throw new IllegalStateException("restore needs an empty archive; it holds " + summaries.size());
        }
        int skip = Math.max(0, held.size() - messages.length);
        int keep = held.size() - skip;
        if (keep == 0) {
            return;
        }
        float[] kept = Arrays.copyOfRange(rows, skip * dimension, held.size() * dimension); // (keep, d)
        try (Arena scratch = Arena.ofShared()) {
            summaries.append(Tensor.of(scratch, kept, keep, dimension));
        }
        for (int r = 0; r < keep; r++) {
            messages[r] = new Archived(held.get(skip + r), tokens.get(skip + r));
        }
    }

    /** Messages held. */
    int size() {
        return summaries.size();
    }

    /** {@code vector} scaled to unit length (a zero vector stays zero), checked against the dimension. */
    float[] unit(float[] vector) {
        if (vector.length != dimension) {
            throw new IllegalStateException("the embedding model returned a " + vector.length
                    + "-d embedding, but the memory was built for " + dimension + "-d ones");
        }
        double sumSquares = 0;
        for (float x : vector) {
            sumSquares += (double) x * x;
        }
        float[] unit = vector.clone();
        if (sumSquares > 0) {
            double norm = Math.sqrt(sumSquares);
            for (int i = 0; i < unit.length; i++) {
                unit[i] = (float) (unit[i] / norm);
            }
        }
        return unit;
    }

    private Candidate candidate(long sequence, double relevance) {
        Archived a = messages[(int) (sequence % messages.length)];
        return new Candidate(sequence, relevance, a.message(), a.tokens());
    }
}
