package dev.mempipe.core.memory;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Backends;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class MemoryBudgetTest {
    private static final Backend CPU = Backends.defaultBackend();
    private static final Engine ENGINE = Engine.builder().build();

    @Test
    void should_refuse_a_memory_too_large_before_allocating_any_of_it_with_the_numbers() {
        MemoryBudget budget = MemoryBudget.of(1 << 20);
        try (Arena arena = budget.arena()) {
            // keys + values + page min/max: 2 * (4096 + 256) rows * 64 floats * 4 B = 2 228 224 B
            MemoryBudgetExceededException e = assertThrows(MemoryBudgetExceededException.class,
                    () -> new PagedKvMemory(arena, ENGINE, 1, 64, 4096));
            assertEquals("PagedKvMemory of 4096 tokens needs 2228224 B (2.13 MiB) but the memory budget has"
                    + " 1048576 B (1.00 MiB) left: 0 B of 1048576 B (1.00 MiB) in use (-Dmempipe.memory.budget sets the"
                    + " process-wide budget)", e.getMessage());
            assertEquals(2228224, e.requested());
            assertEquals(0, budget.used(), "nothing was allocated");
        }
    }

    @Test
    void should_count_what_fits_and_give_it_back_on_close() {
        MemoryBudget budget = MemoryBudget.of(1 << 20);
        try (Arena arena = budget.arena()) {
            new PagedKvMemory(arena, ENGINE, 1, 16, 1000); // 2 * (1000 + 63) * 16 * 4 B
            assertEquals(2 * (1000 + 63) * 16 * 4, budget.used());
            new CompressedMemory(arena, ENGINE, 8, 10);     // 2 * 10 * 8 * 4 B
            assertEquals(2 * (1000 + 63) * 16 * 4 + 640, budget.used());
            // I8 codes and row scales, plus one f32 inverse norm per row
            new EmbeddingMemory(arena, ENGINE, 4, 100, ElementType.I8, HnswSettings.DEFAULT);
            assertEquals(2 * (1000 + 63) * 16 * 4 + 640 + (100 * 4 + 100 * 4) + 100 * 4, budget.used());
        }
        assertEquals(0, budget.used());
    }

    @Test
    void should_share_one_budget_between_arenas_and_refuse_a_single_allocation_past_it() {
        MemoryBudget budget = MemoryBudget.of(10_000);
        try (Arena a = budget.arena(); Arena b = budget.arena()) {
            Tensor.allocate(a, ElementType.F32, 1, 2000); // 8000 B
            MemoryBudgetExceededException e = assertThrows(MemoryBudgetExceededException.class,
                    () -> Tensor.allocate(b, ElementType.F32, 1, 1000));
            assertEquals(4000, e.requested());
            assertEquals(8000, e.used());
            assertEquals(10_000, e.limit());
            Tensor.allocate(b, ElementType.F32, 1, 500);
            assertEquals(10_000, budget.used());
        }
        assertEquals(0, budget.used());
    }

    @Test
    void should_not_limit_memories_in_ordinary_arenas_and_take_the_engine_budget_from_the_builder() {
        try (Arena arena = Arena.ofConfined()) {
            MemoryBudget.claim(arena, Long.MAX_VALUE, "anything"); // not a budget arena: no limit, no effect
        }
        MemoryBudget budget = MemoryBudget.of(123);
        assertSame(budget, Engine.builder().memoryBudget(budget).build().memoryBudget());
        assertSame(MemoryBudget.shared(), Engine.builder().build().memoryBudget());
    }

    @Test
    void should_refuse_a_search_whose_scratch_would_pass_the_engine_budget_before_it_allocates() {
        // d = 4, 100 rows, one query, k = 3: unit query 16 B + top-k rows and scores 2 * 3 * 4 B = 40 B (no score matrix)
        try (Arena arena = Arena.ofShared()) {
            MemoryBudget tight = MemoryBudget.of(30);
            EmbeddingMemory memory = new EmbeddingMemory(arena, Engine.builder().memoryBudget(tight).build(), 4, 100);
            memory.append(Tensor.of(arena, new float[400], 100, 4));
            long before = tight.used();
            Tensor query = Tensor.of(arena, new float[] {1, 0, 0, 0}, 1, 4);
            MemoryBudgetExceededException e = assertThrows(MemoryBudgetExceededException.class,
                    () -> memory.search(query, 3));
            assertEquals(40, e.requested()); // the unit query (4 floats), 3 row ids and 3 scores
            assertEquals(before, e.used());
            assertEquals("a search of 1 query over 100 rows (its queries and top-k scratch) needs 40 B but the memory"
                    + " budget has " + (30 - before) + " B left: " + before + " B of 30 B in use"
                    + " (-Dmempipe.memory.budget sets the process-wide budget)", e.getMessage());
            assertEquals(before, tight.used(), "nothing taken");

            MemoryBudget enough = MemoryBudget.of(before + 40);
            EmbeddingMemory fits = new EmbeddingMemory(arena, Engine.builder().memoryBudget(enough).build(), 4, 100);
            fits.append(Tensor.of(arena, new float[400], 100, 4));
            assertEquals(3, fits.search(query, 3).size());
            assertEquals(enough.used(), before, "the scratch is given back when the search returns");
        }
    }

    @Test
    void should_count_a_reads_scratch_against_its_engines_budget_and_name_it_when_refused() {
        MemoryBudget budget = MemoryBudget.of(1 << 20);
        long sharedBefore = MemoryBudget.shared().used();
        try (Arena scratch = Scratch.open(Engine.builder().memoryBudget(budget).build())) {
            scratch.allocate(4096);
            assertEquals(4096, budget.used());
            assertEquals(sharedBefore, MemoryBudget.shared().used(), "not the process budget");
        }
        assertEquals(0, budget.used());
        MemoryBudget small = MemoryBudget.of(1000);
        try (Arena scratch = small.scratchArena("the scratch of one read")) {
            MemoryBudgetExceededException e = assertThrows(MemoryBudgetExceededException.class,
                    () -> scratch.allocate(4096));
            assertEquals("the scratch of one read: an allocation of 4096 bytes needs 4096 B (4.00 KiB) but the memory"
                    + " budget has 1000 B left: 0 B of 1000 B in use (-Dmempipe.memory.budget sets the process-wide"
                    + " budget)", e.getMessage());
        }
        assertEquals(0, small.used());
    }

    @Test
    void should_parse_sizes_and_refuse_nonsense() {
        assertEquals(8L << 30, MemoryBudget.parseSize("8g"));
        assertEquals(512L << 20, MemoryBudget.parseSize("512M"));
        assertEquals(4096, MemoryBudget.parseSize("4096"));
        assertEquals(Long.MAX_VALUE, MemoryBudget.fromProperty(null).limit());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MemoryBudget.fromProperty("lots"));
        assertEquals("-Dmempipe.memory.budget=lots is not a size (bytes, or a number with k, m, g or t, e.g. 8g)",
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> MemoryBudget.fromProperty("99999999999t"));
        assertThrows(IllegalArgumentException.class, () -> MemoryBudget.of(-1));
    }
}
