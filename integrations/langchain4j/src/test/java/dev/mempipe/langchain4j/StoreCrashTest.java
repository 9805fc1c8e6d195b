package dev.mempipe.langchain4j;

import dev.langchain4j.data.document.Metadata;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.store.embedding.EmbeddingMatch;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.io.AtomicFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/**
 * Crash simulation of a save: at each step of the {@link AtomicFile} protocol the folder is copied (what a crash at
 * that moment leaves on disk), then the temporary or the target file of the copy is damaged in each way a crash or a
 * bad disk damages files (deleted, zeroed, truncated to half or to nothing, one bit flipped). Loading the copy must
 * give exactly the old store or exactly the new one; only when the damage hit the file that holds the store (the
 * target) may it instead refuse the file, with a checked error, never a partial store. The next save into the copy
 * then removes the left-over temporary file once it is old.
 */
class StoreCrashTest {
    private static final long SEED = Long.getLong("mempipe.crash.seed", 20261207L);
    private static final int D = 24;

    @TempDir
    Path dir;

    enum Damage { NONE, DELETED, ZEROED, HALF, EMPTY, BIT_FLIP }

    enum Outcome { OLD, NEW, REFUSED }

    @Test
    void should_load_the_old_or_the_new_store_after_a_crash_at_any_step_with_any_damage() throws IOException {
        System.out.println("StoreCrashTest seed " + SEED + " (-Dmempipe.crash.seed=" + SEED + " reruns it)");
        SplittableRandom random = new SplittableRandom(SEED);
        Map<Outcome, Integer> outcomes = new EnumMap<>(Outcome.class);
        int cells = 0;
        for (boolean firstSave : new boolean[] {true, false}) {
            for (ElementType storage : List.of(ElementType.F32, ElementType.I8)) {
                Path work = Files.createDirectories(dir.resolve("work-" + firstSave + "-" + storage));
                Path file = work.resolve("store.mpes");
                List<String> oldState = null;
                if (!firstSave) {
                    try (MempipeEmbeddingStore old = store(storage, 1, 30)) {
                        old.save(file);
                        oldState = contents(old);
                    }
                }
                List<Path> images = new ArrayList<>();
                List<AtomicFile.Step> steps = new ArrayList<>();
                List<String> newState;
                try (MempipeEmbeddingStore next = store(storage, 2, 45)) {
                    newState = contents(next);
                    next.save(file, SectionWriter.WriteBudget.UNLIMITED, (step, temp, target) -> {
                        Path image = Files.createDirectories(dir.resolve("image-" + firstSave + "-" + storage + "-"
                                + step));
                        try (Stream<Path> files = Files.list(work)) {
                            for (Path f : files.toList()) {
                                Files.copy(f, image.resolve(f.getFileName()));
                            }
                        }
                        images.add(image);
                        steps.add(step);
                    });
                }
                assertThat(steps).containsExactly(AtomicFile.Step.values());
                for (int s = 0; s < steps.size(); s++) {
                    AtomicFile.Step step = steps.get(s);
                    boolean renamed = step.compareTo(AtomicFile.Step.RENAMED) >= 0;
                    for (boolean hitTarget : new boolean[] {false, true}) {
                        for (Damage damage : Damage.values()) {
                            Path copy = copyOf(images.get(s), "cell-" + cells);
                            Path target = copy.resolve("store.mpes");
                            Path temp = tempIn(copy);
                            assertThat(temp != null).as("a temporary file exists at " + step).isEqualTo(!renamed);
                            Path victim = hitTarget ? target : temp;
                            boolean damaged = damage != Damage.NONE && victim != null && Files.exists(victim);
                            if (damaged) {
                                damage(victim, damage, random);
                            }
                            String cell = "first save " + firstSave + ", " + storage + ", crash after " + step + ", "
                                    + damage + " " + (hitTarget ? "target" : "temporary file");
                            Outcome got = load(target, oldState, newState, cell);
                            Outcome clean = renamed ? Outcome.NEW : (oldState == null ? Outcome.REFUSED : Outcome.OLD);
                            if (damaged && hitTarget) {
                                // the store's own file was damaged: refused whole; a flipped bit in the old file may
                                // not be reached before the first check fails, never a different store
                                assertThat(got).as(cell).isEqualTo(Outcome.REFUSED);
                            } else {
                                assertThat(got).as(cell).isEqualTo(clean);
                            }
                            outcomes.merge(got, 1, Integer::sum);
                            cells++;
                            if (temp != null && Files.exists(temp)) {
                                assertLeftOverRemovedByNextSave(copy, temp, storage);
                            }
                        }
                    }
                }
            }
        }
        System.out.println("StoreCrashTest: " + cells + " crash images loaded: " + outcomes);
        assertThat(cells).isEqualTo(2 * 2 * AtomicFile.Step.values().length * 2 * Damage.values().length);
    }

    /** What loading {@code file} gives: the old store, the new one, or a checked refusal. */
    private static Outcome load(Path file, List<String> oldState, List<String> newState, String cell) {
        try (MempipeEmbeddingStore loaded = MempipeEmbeddingStore.load(file)) {
            List<String> state = contents(loaded);
            if (state.equals(newState)) {
                return Outcome.NEW;
            }
            if (state.equals(oldState)) {
                return Outcome.OLD;
            }
            return fail(cell + ": loaded a store that is neither the old nor the new one: " + state.size()
                    + " entries");
        } catch (StoreFormatException | NoSuchFileException e) {
            return Outcome.REFUSED;
        } catch (IOException | RuntimeException e) {
            return fail(cell + ": refused with an unexpected exception", e);
        }
    }

    private void assertLeftOverRemovedByNextSave(Path copy, Path temp, ElementType storage) throws IOException {
        Files.setLastModifiedTime(temp, FileTime.from(Instant.now().minus(AtomicFile.STALE_AFTER).minusSeconds(1)));
        try (MempipeEmbeddingStore again = store(storage, 3, 5)) {
            again.save(copy.resolve("store.mpes"));
        }
        assertThat(temp).doesNotExist();
        try (Stream<Path> left = Files.list(copy)) {
            assertThat(left.map(p -> p.getFileName().toString()).toList()).containsExactly("store.mpes");
        }
    }

    private static void damage(Path file, Damage damage, SplittableRandom random) throws IOException {
        long size = Files.size(file);
        switch (damage) {
            case NONE -> { }
            case DELETED -> Files.delete(file);
            case ZEROED -> Files.write(file, new byte[(int) size]);
            case HALF -> truncate(file, size / 2);
            case EMPTY -> truncate(file, 0);
            case BIT_FLIP -> {
                byte[] bytes = Files.readAllBytes(file);
                if (bytes.length > 0) {
                    int bit = random.nextInt(bytes.length * 8);
                    bytes[bit / 8] ^= (byte) (1 << (bit % 8));
                    Files.write(file, bytes);
                }
            }
        }
    }

    private static void truncate(Path file, long size) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, (int) size));
    }

    private Path copyOf(Path image, String name) throws IOException {
        Path copy = Files.createDirectories(dir.resolve(name));
        try (Stream<Path> files = Files.list(image)) {
            for (Path f : files.toList()) {
                Files.copy(f, copy.resolve(f.getFileName()));
            }
        }
        return copy;
    }

    private static Path tempIn(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(p -> AtomicFile.isTempOf(p.getFileName().toString(), "store.mpes")).findFirst()
                    .orElse(null);
        }
    }

    /** A store of {@code n} entries whose vectors, ids and texts depend on {@code seed}. */
    static MempipeEmbeddingStore store(ElementType storage, int seed, int n) {
        return store(storage, seed, n, D);
    }

    /** {@link #store(ElementType, int, int)} of dimension {@code d}. */
    static MempipeEmbeddingStore store(ElementType storage, int seed, int n, int d) {
        MempipeEmbeddingStore store = MempipeEmbeddingStore.builder().storage(storage).build();
        List<Embedding> vectors = SyntheticEmbeddings.clustered(seed, n, d, 3);
        for (int i = 0; i < n; i++) {
            store.addAll(List.of("s" + seed + "-" + i), List.of(vectors.get(i)),
                    List.of(TextSegment.from("text " + seed + "/" + i, new Metadata().put("i", i))));
        }
        return store;
    }

    /** Every entry as one line (id, vector, text, metadata), sorted by id. */
    static List<String> contents(MempipeEmbeddingStore store) {
        if (store.size() == 0) {
            return List.of();
        }
        float[] probe = new float[store.dimension()];
        probe[0] = 1;
        List<String> lines = new ArrayList<>();
        for (EmbeddingMatch<TextSegment> m : store.search(EmbeddingSearchRequest.builder()
                .queryEmbedding(Embedding.from(probe)).maxResults(store.size()).build()).matches()) {
            lines.add(m.embeddingId() + " " + Arrays.toString(m.embedding().vector()) + " "
                    + (m.embedded() == null ? "-" : m.embedded().text() + " " + new java.util.TreeMap<>(m.embedded().metadata().toMap())));
        }
        lines.sort(null);
        assertThat(lines).hasSize(store.size());
        return lines;
    }

    @Test
    void should_refuse_a_store_file_named_by_the_user_path_when_the_folder_is_missing() {
        Path file = dir.resolve("nowhere/store.mpes");
        try (MempipeEmbeddingStore store = store(ElementType.F32, 4, 3)) {
            assertThatThrownBy(() -> store.save(file)).isInstanceOf(IOException.class)
                    .hasMessage("cannot write " + file + ": the folder " + file.getParent() + " does not exist");
        }
    }
}
