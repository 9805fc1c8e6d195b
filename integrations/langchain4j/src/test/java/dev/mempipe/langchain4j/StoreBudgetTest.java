package dev.mempipe.langchain4j;

import dev.langchain4j.data.embedding.Embedding;
import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.MemoryBudget;
import dev.mempipe.core.memory.MemoryBudgetExceededException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The store's vectors count against its engine's memory budget; an add that would pass it changes nothing. */
class StoreBudgetTest {
    @Test
    void should_refuse_an_add_that_would_grow_past_the_budget_and_keep_the_store_as_it_was() {
        // 64 rows of 8 F32 + 64 inverse norms = 2304 B at first; growing to 128 rows needs 4608 B more
        MemoryBudget budget = MemoryBudget.of(4096);
        try (MempipeEmbeddingStore store = MempipeEmbeddingStore.builder().engine(Engine.builder().memoryBudget(budget).build()).build()) {
            List<Embedding> first = SyntheticEmbeddings.clustered(1, 64, 8, 2);
            store.addAll(first);
            assertThat(budget.used()).isEqualTo(2304);
            List<Embedding> more = SyntheticEmbeddings.clustered(2, 1, 8, 1);
            assertThatThrownBy(() -> store.addAll(more)).isInstanceOf(MemoryBudgetExceededException.class)
                    .hasMessageStartingWith("growing 8-d F32 embeddings to 128 rows needs 4608 B (4.50 KiB)"
                            + " but the memory budget has 1792 B (1.75 KiB) left: 2304 B (2.25 KiB) of 4096 B");
            assertThat(store.size()).isEqualTo(64);
            assertThat(budget.used()).isEqualTo(2304);
        }
        assertThat(budget.used()).isZero();
    }

    @Test
    void should_not_fix_the_dimension_when_the_first_add_is_refused() {
        MemoryBudget budget = MemoryBudget.of(100);
        try (MempipeEmbeddingStore store = MempipeEmbeddingStore.builder().engine(Engine.builder().memoryBudget(budget).build()).build()) {
            assertThatThrownBy(() -> store.add(SyntheticEmbeddings.clustered(3, 1, 16, 1).getFirst()))
                    .isInstanceOf(MemoryBudgetExceededException.class);
            assertThat(store.dimension()).isZero();
            store.close();
        }
        assertThat(budget.used()).isZero();
    }
}
