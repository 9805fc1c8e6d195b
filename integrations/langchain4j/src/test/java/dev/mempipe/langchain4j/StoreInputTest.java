package dev.mempipe.langchain4j;

import dev.langchain4j.data.document.Metadata;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Bad input fails with a message that names it, and a batch with one bad element adds nothing. */
class StoreInputTest {
    private final MempipeEmbeddingStore store = MempipeEmbeddingStore.builder().dimension(4).build();

    @AfterEach
    void close() {
        store.close();
    }

    private static Embedding e(float... v) {
        return new Embedding(v);
    }

    private int stored() {
        return store.size();
    }

    @Test
    void should_reject_a_dimension_mismatch_naming_the_position() {
        assertThatThrownBy(() -> store.addAll(List.of(e(1, 0, 0, 0), e(1, 2, 3))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("embeddings[1] has dimension 3 but this store holds 4-dimensional embeddings");
        assertThat(stored()).isZero();
    }

    @Test
    void should_reject_nan_and_infinity_with_their_position() {
        assertThatThrownBy(() -> store.addAll(List.of(e(1, 0, 0, 0), e(1, 0, 0, 0), e(0, 1, Float.NaN, 0))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("embeddings[2] holds NaN at element 2; embeddings must be finite");
        assertThatThrownBy(() -> store.add(e(Float.NEGATIVE_INFINITY, 0, 0, 0)))
                .hasMessage("embedding holds -Infinity at element 0; embeddings must be finite");
        assertThat(stored()).isZero();
    }

    @Test
    void should_reject_a_nan_query() {
        store.add(e(1, 0, 0, 0));
        EmbeddingSearchRequest request = EmbeddingSearchRequest.builder().queryEmbedding(e(0, Float.NaN, 0, 0)).build();
        assertThatThrownBy(() -> store.search(request)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("queryEmbedding holds NaN at element 1; embeddings must be finite");
        EmbeddingSearchRequest wrongDimension = EmbeddingSearchRequest.builder().queryEmbedding(e(1, 0)).build();
        assertThatThrownBy(() -> store.search(wrongDimension))
                .hasMessage("queryEmbedding has dimension 2 but this store holds 4-dimensional embeddings");
    }

    @Test
    void should_reject_norms_that_do_not_fit_f32_cosines_but_accept_zero() {
        assertThatThrownBy(() -> store.add(e(1e30f, 1e30f, 0, 0))).hasMessageContaining("outside [2^-60, 2^60]");
        assertThatThrownBy(() -> store.add(e(1e-30f, 0, 0, 0))).hasMessageContaining("outside [2^-60, 2^60]");
        store.add(e(0, 0, 0, 0));
        assertThat(stored()).isOne();
    }

    @Test
    void should_reject_null_or_blank_ids() {
        assertThatThrownBy(() -> store.addAll(Arrays.asList("a", null), List.of(e(1, 0, 0, 0), e(0, 1, 0, 0)), null))
                .hasMessage("ids[1] is null; every embedding needs a non-blank id");
        assertThatThrownBy(() -> store.addAll(List.of("a", " "), List.of(e(1, 0, 0, 0), e(0, 1, 0, 0)), null))
                .hasMessage("ids[1] is blank; every embedding needs a non-blank id");
        assertThatThrownBy(() -> store.add((String) null, e(1, 0, 0, 0))).hasMessage("id cannot be null or blank");
        assertThat(stored()).isZero();
    }

    @Test
    void should_reject_duplicate_ids_in_the_batch_and_in_the_store() {
        assertThatThrownBy(() -> store.addAll(List.of("a", "b", "a"), List.of(e(1, 0, 0, 0), e(0, 1, 0, 0),
                e(0, 0, 1, 0)), null)).hasMessage("ids[2] 'a' repeats ids[0]");
        store.add("b", e(1, 0, 0, 0));
        assertThatThrownBy(() -> store.addAll(List.of("c", "b"), List.of(e(1, 0, 0, 0), e(0, 1, 0, 0)), null))
                .hasMessage("ids[1] 'b' is already in the store; remove it first to replace it");
        assertThat(stored()).isOne();
        store.remove("b");
        store.add("b", e(0, 1, 0, 0)); // a removed id may come back
        assertThat(stored()).isOne();
    }

    @Test
    void should_reject_null_segments_and_null_embeddings() {
        List<TextSegment> segments = Arrays.asList(TextSegment.from("x"), null);
        assertThatThrownBy(() -> store.addAll(List.of(e(1, 0, 0, 0), e(0, 1, 0, 0)), segments))
                .hasMessage("embedded[1] is null; pass a null list to add embeddings without segments");
        assertThatThrownBy(() -> store.add(e(1, 0, 0, 0), null))
                .hasMessage("segment is null; use add(Embedding) for an embedding without one");
        assertThatThrownBy(() -> store.addAll(Arrays.asList(e(1, 0, 0, 0), null)))
                .hasMessage("embeddings[1] is null");
        assertThatThrownBy(() -> store.add((Embedding) null)).hasMessage("embedding is null");
        assertThat(stored()).isZero();
    }

    @Test
    void should_add_nothing_when_the_last_element_of_a_large_batch_is_bad() {
        List<Embedding> batch = new ArrayList<>(SyntheticEmbeddings.clustered(1, 999, 4, 3));
        batch.add(e(1, 1, 1, Float.NaN));
        assertThatThrownBy(() -> store.addAll(batch)).hasMessageContaining("embeddings[999] holds NaN");
        assertThat(stored()).isZero();
        assertThat(store.search(EmbeddingSearchRequest.builder().queryEmbedding(e(1, 1, 1, 1)).build()).matches())
                .isEmpty();
    }

    @Test
    void should_reject_null_or_blank_ids_when_removing_without_removing_anything() {
        store.add("a", e(1, 0, 0, 0));
        assertThatThrownBy(() -> store.removeAll(Arrays.asList("a", null)))
                .hasMessage("ids holds a null id at position 1; nothing was removed");
        assertThat(stored()).isOne();
    }

    @Test
    void should_fix_the_dimension_with_the_first_add_when_the_builder_did_not() {
        try (MempipeEmbeddingStore open = MempipeEmbeddingStore.builder().build()) {
            assertThat(open.dimension()).isZero();
            open.add(e(1, 2, 3));
            assertThat(open.dimension()).isEqualTo(3);
            assertThatThrownBy(() -> open.add(e(1, 2))).hasMessageContaining("this store holds 3-dimensional");
            open.removeAll();
            assertThat(open.dimension()).isEqualTo(3);
        }
    }

    @Test
    void should_keep_its_own_copy_of_the_segment_metadata() {
        Metadata metadata = new Metadata().put("k", "before");
        store.add(e(1, 0, 0, 0), TextSegment.from("text", metadata));
        metadata.put("k", "after");
        var match = store.search(EmbeddingSearchRequest.builder().queryEmbedding(e(1, 0, 0, 0)).build()).matches()
                .getFirst();
        assertThat(match.embedded().metadata().getString("k")).isEqualTo("before");
        match.embedded().metadata().put("k", "changed by a reader");
        assertThat(store.search(EmbeddingSearchRequest.builder().queryEmbedding(e(1, 0, 0, 0)).build()).matches()
                .getFirst().embedded().metadata().getString("k")).isEqualTo("before");
    }

    @Test
    void should_refuse_every_call_after_close() {
        store.add(e(1, 0, 0, 0));
        store.close();
        store.close(); // idempotent
        assertThatThrownBy(() -> store.add(e(1, 0, 0, 0))).isInstanceOf(IllegalStateException.class)
                .hasMessage("this MempipeEmbeddingStore is closed");
        assertThatThrownBy(() -> store.search(EmbeddingSearchRequest.builder().queryEmbedding(e(1, 0, 0, 0)).build()))
                .isInstanceOf(IllegalStateException.class);
    }
}
