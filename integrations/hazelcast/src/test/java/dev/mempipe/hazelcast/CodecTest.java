package dev.mempipe.hazelcast;

import dev.langchain4j.data.document.Metadata;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.store.embedding.filter.Filter;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import static dev.langchain4j.store.embedding.filter.MetadataFilterBuilder.metadataKey;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Entries and filters as the members receive them: the same objects back, or a clear refusal. */
class CodecTest {
    private static final UUID ID = UUID.fromString("2b3c3a1e-7c8d-4e1f-9a0b-1c2d3e4f5a6b");

    @Test
    void should_round_trip_every_filter_langchain4j_builds() {
        List<Filter> filters = List.of(
                metadataKey("s").isEqualTo("a"), metadataKey("u").isEqualTo(ID), metadataKey("i").isEqualTo(1),
                metadataKey("l").isNotEqualTo(2L), metadataKey("f").isGreaterThan(1.5f),
                metadataKey("d").isGreaterThanOrEqualTo(2.5), metadataKey("i").isLessThan(3),
                metadataKey("l").isLessThanOrEqualTo(4L), metadataKey("s").isIn("a", "b"),
                metadataKey("i").isNotIn(List.of(1, 2)), metadataKey("s").containsString("x"),
                metadataKey("s").isEqualTo("a").and(metadataKey("i").isLessThan(3).or(
                        Filter.not(metadataKey("d").isGreaterThan(0.5)))));
        Metadata sample = Metadata.from(Map.of("s", "xa", "u", ID, "i", 1, "l", 4L, "f", 2f, "d", 2.5));
        for (Filter filter : filters) {
            Filter back = FilterCodec.decode(FilterCodec.encode(filter));
            assertEquals(filter, back);
            assertEquals(filter.test(sample), back.test(sample), filter.toString());
        }
        assertNull(FilterCodec.decode(FilterCodec.encode(null)));
    }

    @Test
    void should_refuse_a_filter_it_cannot_ship_naming_its_class() {
        Filter lambda = metadata -> true;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FilterCodec.encode(lambda));
        assertTrue(e.getMessage().contains(lambda.getClass().getName()), e.getMessage());
        IllegalArgumentException operand = assertThrows(IllegalArgumentException.class,
                () -> FilterCodec.encode(new dev.langchain4j.store.embedding.filter.comparison.IsEqualTo("k", true)));
        assertTrue(operand.getMessage().contains("the operand of the filter on 'k' is a java.lang.Boolean"),
                operand.getMessage());
    }

    @Test
    void should_round_trip_entries_bit_for_bit() {
        float[] vector = {1.5f, -0.0f, Float.MIN_VALUE, 3e38f};
        String longText = "x".repeat(70_000); // past writeUTF's 64 KiB
        Metadata metadata = Metadata.from(Map.of("s", "é", "u", ID, "i", -1, "l", Long.MIN_VALUE, "f", 0.1f,
                "d", Double.MAX_VALUE));
        EntryCodec.Entry back = EntryCodec.decode(EntryCodec.encode(42, vector, TextSegment.from(longText, metadata)));
        assertEquals(42, back.sequence());
        assertArrayEquals(vector, back.vector());
        assertEquals(longText, back.segment().text());
        assertEquals(metadata, back.segment().metadata());
        assertEquals(metadata, EntryCodec.metadata(EntryCodec.encode(42, vector, TextSegment.from("t", metadata))));
        EntryCodec.Entry bare = EntryCodec.decode(EntryCodec.encode(7, vector, null));
        assertNull(bare.segment());
        assertEquals(new Metadata(), EntryCodec.metadata(EntryCodec.encode(7, vector, null)));
    }
}
