package dev.mempipe.langchain4j;

import dev.langchain4j.data.document.Metadata;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.store.embedding.EmbeddingMatch;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.EmbeddingSearchResult;
import dev.mempipe.core.memory.HnswSettings;
import dev.mempipe.spi.ElementType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.zip.CRC32;

import static dev.langchain4j.store.embedding.filter.MetadataFilterBuilder.metadataKey;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** save/load: the round trip keeps every entry and metadata type; damaged files are refused whole. */
class StoreFileTest {
    private static final UUID SOME_UUID = UUID.fromString("6f1f7bd4-1b0e-4c4e-9d55-6a1f8c1f3a10");

    @TempDir
    Path dir;

    private static Metadata everyType(int i) {
        return new Metadata()
                .put("string", "value " + i).put("empty", "").put("unicode", "\u00e9t\u00e9 \u6f22\u5b57 \ud83d\ude00")
                .put("uuid", SOME_UUID)
                .put("int", i).put("int_min", Integer.MIN_VALUE).put("long", 1746714878034235396L + i)
                .put("long_max", Long.MAX_VALUE)
                .put("float", 1.23456789f).put("float_min", Float.MIN_VALUE).put("float_nan", Float.NaN)
                .put("double", 1.23456789d).put("double_inf", Double.NEGATIVE_INFINITY);
    }

    /** A store of 50 entries (every third without a segment) of which 10 are removed (tombstones in the file's source). */
    private static MempipeEmbeddingStore sample(ElementType storage, int d) {
        MempipeEmbeddingStore store = MempipeEmbeddingStore.builder().storage(storage).build();
        List<Embedding> vectors = SyntheticEmbeddings.clustered(17, 50, d, 4);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < vectors.size(); i++) {
            String id = "id-" + i;
            ids.add(id);
            if (i % 3 == 0) {
                store.add(id, vectors.get(i));
            } else {
                store.addAll(List.of(id), List.of(vectors.get(i)), List.of(TextSegment.from("text " + i,
                        everyType(i))));
            }
        }
        store.removeAll(ids.subList(10, 20));
        return store;
    }

    private static List<EmbeddingSearchResult<TextSegment>> probe(MempipeEmbeddingStore store, int d) {
        List<EmbeddingSearchRequest> requests = new ArrayList<>();
        for (Embedding q : SyntheticEmbeddings.clustered(99, 4, d, 4)) {
            requests.add(EmbeddingSearchRequest.builder().queryEmbedding(q).maxResults(100).build());
        }
        requests.add(EmbeddingSearchRequest.builder().queryEmbedding(requests.getFirst().queryEmbedding())
                .filter(metadataKey("int").isGreaterThan(30)).maxResults(100).build());
        return store.searchAll(requests);
    }

    private static void assertSameResults(List<EmbeddingSearchResult<TextSegment>> got,
                                          List<EmbeddingSearchResult<TextSegment>> want) {
        assertThat(got).hasSameSizeAs(want);
        for (int r = 0; r < want.size(); r++) {
            List<EmbeddingMatch<TextSegment>> g = got.get(r).matches();
            List<EmbeddingMatch<TextSegment>> w = want.get(r).matches();
            assertThat(g).extracting(EmbeddingMatch::embeddingId)
                    .isEqualTo(w.stream().map(EmbeddingMatch::embeddingId).toList());
            assertThat(g).extracting(EmbeddingMatch::embedding)
                    .isEqualTo(w.stream().map(EmbeddingMatch::embedding).toList());
            assertThat(g).extracting(EmbeddingMatch::embedded)
                    .isEqualTo(w.stream().map(EmbeddingMatch::embedded).toList());
            for (int i = 0; i < w.size(); i++) {
                assertThat(g.get(i).score()).isCloseTo(w.get(i).score(), within(1e-6));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(ElementType.class)
    void should_round_trip_every_entry_with_its_metadata_types(ElementType storage) throws IOException {
        Path file = dir.resolve("store.mpes");
        try (MempipeEmbeddingStore store = sample(storage, 37)) {
            store.save(file);
            try (MempipeEmbeddingStore loaded = MempipeEmbeddingStore.load(file)) {
                assertThat(loaded.size()).isEqualTo(40);
                assertThat(loaded.dimension()).isEqualTo(37);
                assertThat(loaded.storage()).isEqualTo(storage);
                assertSameResults(probe(loaded, 37), probe(store, 37));
                TextSegment segment = probe(loaded, 37).getLast().matches().getFirst().embedded();
                Map<String, Object> values = segment.metadata().toMap();
                assertThat(values).isEqualTo(everyType(segment.metadata().getInteger("int")).toMap());
                assertThat(values.get("int")).isInstanceOf(Integer.class);
                assertThat(values.get("long")).isInstanceOf(Long.class);
                assertThat(values.get("float")).isInstanceOf(Float.class);
                assertThat(values.get("double")).isInstanceOf(Double.class);
                assertThat(values.get("uuid")).isEqualTo(SOME_UUID);
            }
        }
        assertThat(Files.list(dir)).containsExactly(file); // no temporary file left behind
    }

    @Test
    void should_load_into_an_approximate_store_that_rebuilds_its_graph() throws IOException {
        Path file = dir.resolve("store.mpes");
        try (MempipeEmbeddingStore store = sample(ElementType.F32, 16)) {
            store.save(file);
            try (MempipeEmbeddingStore loaded = MempipeEmbeddingStore.builder().approximate(HnswSettings.DEFAULT)
                    .load(file)) {
                assertThat(loaded.isApproximate()).isTrue();
                assertSameResults(List.of(loaded.search(probeRequest(16))), List.of(store.search(probeRequest(16))));
                assertThat(loaded.graphCounters()[0]).isOne();
            }
        }
    }

    private static EmbeddingSearchRequest probeRequest(int d) {
        return EmbeddingSearchRequest.builder().queryEmbedding(SyntheticEmbeddings.clustered(5, 1, d, 1).getFirst())
                .maxResults(100).build();
    }

    @Test
    void should_round_trip_empty_stores_with_and_without_a_dimension() throws IOException {
        Path file = dir.resolve("empty.mpes");
        try (MempipeEmbeddingStore open = MempipeEmbeddingStore.builder().build()) {
            open.save(file);
        }
        try (MempipeEmbeddingStore loaded = MempipeEmbeddingStore.load(file)) {
            assertThat(loaded.size()).isZero();
            assertThat(loaded.dimension()).isZero();
            loaded.add(new Embedding(new float[] {1, 2}));
            assertThat(loaded.dimension()).isEqualTo(2);
        }
        try (MempipeEmbeddingStore fixed = MempipeEmbeddingStore.builder().dimension(8).storage(ElementType.I8).build()) {
            fixed.add(new Embedding(new float[] {1, 2, 3, 4, 5, 6, 7, 8}));
            fixed.removeAll();
            fixed.save(file);
        }
        try (MempipeEmbeddingStore loaded = MempipeEmbeddingStore.load(file)) {
            assertThat(loaded.size()).isZero();
            assertThat(loaded.dimension()).isEqualTo(8);
            assertThat(loaded.storage()).isEqualTo(ElementType.I8);
        }
    }

    @Test
    void should_replace_the_previous_file_atomically() throws IOException {
        Path file = dir.resolve("store.mpes");
        try (MempipeEmbeddingStore first = sample(ElementType.F32, 8);
             MempipeEmbeddingStore second = MempipeEmbeddingStore.builder().build()) {
            first.save(file);
            second.add("only", new Embedding(new float[] {1, 0, 0}));
            second.save(file);
        }
        try (MempipeEmbeddingStore loaded = MempipeEmbeddingStore.load(file)) {
            assertThat(loaded.size()).isOne();
            assertThat(loaded.dimension()).isEqualTo(3);
        }
        assertThat(Files.list(dir)).containsExactly(file);
    }

    @Test
    void should_leave_the_old_file_intact_when_a_save_fails_midway() throws IOException {
        Path file = dir.resolve("store.mpes");
        try (MempipeEmbeddingStore old = sample(ElementType.BF16, 12);
             MempipeEmbeddingStore next = sample(ElementType.F32, 20)) {
            old.save(file);
            byte[] before = Files.readAllBytes(file);
            Path full = dir.resolve("full.mpes");
            next.save(full);
            long size = Files.size(full);
            Files.delete(full);
            for (long budget : new long[] {0, 1, 39, 40, 52, 200, size / 2, size - 5, size - 1}) {
                assertThatThrownBy(() -> next.save(file, new SectionWriter.WriteBudget(budget)))
                        .as("budget " + budget).isInstanceOf(IOException.class)
                        .hasMessageContaining("simulated failure");
                assertThat(Files.readAllBytes(file)).as("budget " + budget).isEqualTo(before);
                assertThat(Files.list(dir)).as("budget " + budget).containsExactly(file);
            }
            try (MempipeEmbeddingStore loaded = MempipeEmbeddingStore.load(file)) {
                assertSameResults(probe(loaded, 12), probe(old, 12));
            }
        }
    }

    /** A small file with every section populated: I8 (row scales), entries with and without metadata. */
    private Path smallFile() throws IOException {
        Path file = dir.resolve("small.mpes");
        try (MempipeEmbeddingStore store = MempipeEmbeddingStore.builder().storage(ElementType.I8).build()) {
            List<Embedding> vectors = SyntheticEmbeddings.clustered(23, 5, 4, 2);
            store.add("bare", vectors.get(0));
            store.add(vectors.get(1), TextSegment.from("one", new Metadata().put("s", "x").put("i", 1).put("l", 2L)));
            store.add(vectors.get(2), TextSegment.from("two", new Metadata().put("f", 1.5f).put("d", 2.5d)
                    .put("u", SOME_UUID)));
            store.add("gone", vectors.get(3));
            store.add("kept", vectors.get(4));
            store.remove("gone");
            store.save(file);
        }
        return file;
    }

    @Test
    void should_refuse_every_single_byte_change() throws IOException {
        byte[] good = Files.readAllBytes(smallFile());
        Path damaged = dir.resolve("damaged.mpes");
        for (int at = 0; at < good.length; at++) {
            for (int flip : new int[] {0x01, 0x80}) {
                byte[] bad = good.clone();
                bad[at] ^= (byte) flip;
                Files.write(damaged, bad);
                int position = at;
                assertThatThrownBy(() -> MempipeEmbeddingStore.load(damaged))
                        .as("byte %d xor 0x%x", position, flip).isInstanceOf(StoreFormatException.class);
            }
        }
    }

    @Test
    void should_refuse_every_truncation_and_trailing_bytes() throws IOException {
        byte[] good = Files.readAllBytes(smallFile());
        Path cut = dir.resolve("cut.mpes");
        for (int length = 0; length < good.length; length++) {
            Files.write(cut, Arrays.copyOf(good, length));
            int n = length;
            assertThatThrownBy(() -> MempipeEmbeddingStore.load(cut)).as("first %d bytes", n)
                    .isInstanceOf(StoreFormatException.class);
        }
        byte[] longer = Arrays.copyOf(good, good.length + 3);
        Files.write(cut, longer);
        assertThatThrownBy(() -> MempipeEmbeddingStore.load(cut)).isInstanceOf(StoreFormatException.class)
                .hasMessageContaining("3 bytes follow the last section");
    }

    @Test
    void should_say_why_a_file_is_refused() throws IOException {
        Path text = dir.resolve("notes.txt");
        Files.writeString(text, "these are not the vectors you are looking for, friend");
        assertThatThrownBy(() -> MempipeEmbeddingStore.load(text)).isInstanceOf(StoreFormatException.class)
                .hasMessage("mempipe store file " + text + ": not a mempipe store (no MPSTORE magic)");

        Path file = dir.resolve("store.mpes");
        try (MempipeEmbeddingStore store = sample(ElementType.F32, 4)) {
            store.save(file);
        }
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer header = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        header.putInt(8, 2); // version 2, with a header checksum that matches
        CRC32 crc = new CRC32();
        crc.update(bytes, 0, StoreFile.HEADER_BYTES - 4);
        header.putInt(StoreFile.HEADER_BYTES - 4, (int) crc.getValue());
        Path future = dir.resolve("future.mpes");
        Files.write(future, bytes);
        assertThatThrownBy(() -> MempipeEmbeddingStore.load(future))
                .hasMessageEndingWith("format version 2; this mempipe reads version 1");

        byte[] payload = Files.readAllBytes(file);
        payload[StoreFile.HEADER_BYTES + 12 + 3] ^= 1; // a byte of the first vector
        Files.write(future, payload);
        assertThatThrownBy(() -> MempipeEmbeddingStore.load(future))
                .hasMessageContaining("section VECS is damaged: CRC32");
    }

    @Test
    void should_refuse_a_file_that_disagrees_with_the_builder() throws IOException {
        Path file = dir.resolve("store.mpes");
        try (MempipeEmbeddingStore store = sample(ElementType.F32, 4)) {
            store.save(file);
        }
        assertThatThrownBy(() -> MempipeEmbeddingStore.builder().dimension(5).load(file))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(file + " holds 4-dimensional embeddings but the builder asks for 5");
        assertThatThrownBy(() -> MempipeEmbeddingStore.builder().storage(ElementType.I8).load(file))
                .hasMessage(file + " stores F32 vectors but the builder asks for I8");
    }
}
