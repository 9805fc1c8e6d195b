package dev.mempipe.bench;

import dev.mempipe.core.memory.HnswIndex;
import org.apache.lucene.util.hnsw.HnswGraphBuilder;
import org.apache.lucene.util.hnsw.NeighborArray;
import org.apache.lucene.util.hnsw.OnHeapHnswGraph;
import org.apache.lucene.util.hnsw.RandomVectorScorerSupplier;
import org.apache.lucene.util.hnsw.UpdateableRandomVectorScorer;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Saves the graph of a built {@link HnswIndex} to a file and puts it into a new index over the same rows, so that a
 * search benchmark can be rerun without the minutes of a 100k-row build ({@link HnswComparisonHarness}). A benchmark
 * tool, not a persistence format: it reads the index's private {@code graph}, {@code nodes} and {@code indexing}
 * fields by reflection (the index has no public way to adopt a graph), and fails loudly should they change.
 *
 * <p>File: magic, node count, level count, entry node; then per node its top level and, per level from 0 up, its
 * link count, the links and their scores, in the link list's order (Lucene's sorted part first), as
 * {@code HnswIndex.withQuantization} copies a graph.
 */
final class HnswGraphCache {
    private static final int MAGIC = 0x484e5347; // "HNSG"

    private HnswGraphCache() {
    }

    /** Writes {@code index}'s graph to {@code file} (through a temporary file, so that a failed write leaves none). */
    static void save(HnswIndex index, Path file) throws IOException {
        OnHeapHnswGraph graph;
        int nodes;
        try {
            graph = (OnHeapHnswGraph) field("graph").get(index);
            nodes = field("nodes").getInt(index);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
        Path partial = file.resolveSibling(file.getFileName() + ".partial");
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(partial),
                1 << 20))) {
            int levels = graph.numLevels();
            out.writeInt(MAGIC);
            out.writeInt(nodes);
            out.writeInt(levels);
            out.writeInt(graph.entryNode());
            for (int node = 0; node < nodes; node++) {
                int top = 0;
                while (top + 1 < levels && graph.nodeExistAtLevel(top + 1, node)) {
                    top++;
                }
                out.writeByte(top);
                for (int level = 0; level <= top; level++) {
                    NeighborArray links = graph.getNeighbors(level, node);
                    out.writeShort(links.size());
                    for (int i = 0; i < links.size(); i++) {
                        out.writeInt(links.nodes()[i]);
                        out.writeFloat(links.getScores(i));
                    }
                }
            }
        }
        Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Puts the graph saved in {@code file} into {@code index}, which must be new (no extension yet) and over the rows
     * the graph was built from; afterwards it searches as the saved index did.
     */
    static void load(HnswIndex index, Path file, int maxConn, int beamWidth) throws IOException {
        if (index.nodes() != 0) {
            throw new IllegalArgumentException("index already has " + index.nodes() + " nodes");
        }
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 20))) {
            if (in.readInt() != MAGIC) {
                throw new IOException(file + " is not a saved HNSW graph");
            }
            int nodes = in.readInt();
            int levels = in.readInt();
            int entry = in.readInt();
            OnHeapHnswGraph graph = HnswGraphBuilder.create(new NoScores(), maxConn, beamWidth, 0, nodes).getGraph();
            for (int node = 0; node < nodes; node++) {
                int top = in.readByte();
                for (int level = top; level >= 0; level--) { // Lucene's rule: a node is added from its top level down
                    graph.addNode(level, node);
                }
                for (int level = 0; level <= top; level++) {
                    NeighborArray links = graph.getNeighbors(level, node);
                    int count = in.readShort();
                    float previous = Float.POSITIVE_INFINITY;
                    boolean inOrder = true;
                    for (int i = 0; i < count; i++) {
                        int link = in.readInt();
                        float score = in.readFloat();
                        inOrder &= score <= previous;
                        previous = score;
                        if (inOrder) {
                            links.addInOrder(link, score);
                        } else {
                            links.addOutOfOrder(link, score);
                        }
                    }
                }
            }
            if (nodes > 0) {
                graph.trySetNewEntryNode(entry, levels - 1);
            }
            field("graph").set(index, graph);
            field("nodes").setInt(index, nodes);
            field("indexing").setInt(index, nodes);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Field field(String name) {
        try {
            Field f = HnswIndex.class.getDeclaredField(name);
            f.setAccessible(true);
            return f;
        } catch (NoSuchFieldException e) {
            throw new IllegalStateException("HnswIndex has no field " + name + ": update HnswGraphCache", e);
        }
    }

    /** The builder's scorers, never used: the graph is only filled with saved links. */
    private static final class NoScores implements RandomVectorScorerSupplier {
        @Override
        public UpdateableRandomVectorScorer scorer() { // the builder makes one on creation; it never scores
            return new UpdateableRandomVectorScorer() {
                @Override
                public void setScoringOrdinal(int node) {
                    throw new UnsupportedOperationException("a loaded graph is not built");
                }

                @Override
                public float score(int node) {
                    throw new UnsupportedOperationException("a loaded graph is not built");
                }

                @Override
                public int maxOrd() {
                    return 0;
                }
            };
        }

        @Override
        public RandomVectorScorerSupplier copy() {
            return this;
        }
    }
}
