package dev.mempipe.core.memory;

import dev.mempipe.goldentests.SeparateCopyDevice;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.placement.Device;
import dev.mempipe.core.placement.DeviceModel;
import dev.mempipe.core.placement.Plan;
import dev.mempipe.core.profile.EnergyMeter;
import dev.mempipe.ops.SimdBackend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Random;

import static dev.mempipe.core.memory.MemoryTesting.randomRows;
import static dev.mempipe.core.memory.MemoryTesting.reproduce;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The embedding rows live on the device the plan chooses for Relevancy: pinned there, refreshed after every append,
 * unpinned on close; a device that keeps its own copy ({@link SeparateCopyDevice}) answers as the CPU does.
 */
class EmbeddingRowsResidencyTest {

    /** An engine whose plan runs every step on {@code device}, the SIMD backend as the CPU. */
    private static Engine onDevice(SeparateCopyDevice device) {
        SimdBackend simd = new SimdBackend();
        return Engine.builder()
                .cpu(new Device(simd, DeviceModel.declared(simd.name(), 1e11, 2e10, 1e-6)))
                .device(new Device(device, DeviceModel.declared(device.name(), 1e12, 1e11, 1e-6)))
                .plan(Plan.allOn(device.name()))
                .energyMeter(EnergyMeter.unavailable("not measured in tests")).build();
    }

    @Test
    void should_answer_from_the_device_copy_as_the_cpu_does_after_every_append() {
        long seed = MemoryTesting.seed();
        Random random = new Random(seed);
        SeparateCopyDevice device = new SeparateCopyDevice("copying", new SimdBackend(), false);
        for (ElementType storage : new ElementType[] {ElementType.F32, ElementType.I8}) {
            String where = storage + " " + reproduce(seed, getClass());
            try (Arena arena = Arena.ofShared();
                 var onDevice = new EmbeddingMemory(arena, onDevice(device), 16, 300, storage, HnswSettings.DEFAULT);
                 var onCpu = new EmbeddingMemory(arena, MemoryTesting.engine(), 16, 300, storage,
                         HnswSettings.DEFAULT)) {
                assertEquals(1, device.openPins(), "the rows are pinned when the memory is made " + where);
                Tensor vectors = randomRows(arena, random, 300, 16);
                int at = 0;
                for (int size : new int[] {1, 99, 200}) {
                    onDevice.append(vectors.rowSlice(at, at + size));
                    onCpu.append(vectors.rowSlice(at, at + size));
                    at += size;
                    long reads = device.pinnedReads();
                    assertSameSearches(onCpu, onDevice, arena, random, at, where);
                    assertTrue(device.pinnedReads() > reads, "the device read its copy " + where);
                }
            }
            assertEquals(0, device.openPins(), "close frees the device copy " + where);
        }
    }

    @Test
    void a_device_that_misses_a_refresh_gives_answers_the_checks_reject() {
        // the check above must be able to fail: the same appends on a device that never copies refreshed rows
        SeparateCopyDevice stale = new SeparateCopyDevice("stale", new SimdBackend(), true);
        Random random = new Random(7);
        try (Arena arena = Arena.ofShared();
             var onDevice = new EmbeddingMemory(arena, onDevice(stale), 16, 100);
             var onCpu = new EmbeddingMemory(arena, MemoryTesting.engine(), 16, 100)) {
            Tensor vectors = randomRows(arena, random, 100, 16);
            onDevice.append(vectors);
            onCpu.append(vectors);
            Tensor query = vectors.rowSlice(42, 43);
            assertEquals(42, onCpu.search(query, 1).id(0));
            assertNotEquals(42, onDevice.search(query, 1).id(0), "a stale copy (all zeros) cannot find row 42");
        }
    }

    @Test
    void a_growing_instance_pins_its_new_buffers_and_frees_the_old() {
        SeparateCopyDevice device = new SeparateCopyDevice("copying", new SimdBackend(), false);
        Engine engine = onDevice(device);
        Random random = new Random(11);
        try (Arena arena = Arena.ofShared(); EmbeddingRows rows = EmbeddingRows.growable(engine, ElementType.F32, 8)) {
            Tensor vectors = randomRows(arena, random, 200, 8);
            rows.append(vectors.rowSlice(0, 10));
            assertEquals(1, device.openPins());
            rows.append(vectors.rowSlice(10, 200)); // beyond the first 64 rows: new buffers
            assertEquals(1, device.openPins(), "one pin: the old buffers' was closed");
            Tensor scores = Tensor.allocate(arena, ElementType.F32, 1, 200);
            device.relevancy().dot(vectors.rowSlice(150, 151), rows.vectors(0, 200), scores);
            Tensor expected = Tensor.allocate(arena, ElementType.F32, 1, 200);
            new SimdBackend().relevancy().dot(vectors.rowSlice(150, 151), vectors, expected);
            MemoryTesting.assertSameBits(expected, scores, "scores from the device copy of the grown rows");
        }
        assertEquals(0, device.openPins());
    }

    private static void assertSameSearches(EmbeddingMemory expected, EmbeddingMemory actual, Arena arena,
                                           Random random, int length, String where) {
        for (int q = 0; q < 3; q++) {
            Tensor query = randomRows(arena, random, 1, 16);
            Hits want = expected.search(query, 5);
            Hits got = actual.search(query, 5);
            assertEquals(want.toString(), got.toString(), "exact search over " + length + " rows " + where);
            for (int rank = 0; rank < want.size(); rank++) {
                assertEquals(want.score(rank), got.score(rank), "score at rank " + rank + " " + where);
            }
            assertEquals(expected.searchApproximate(query, 5).toString(), actual.searchApproximate(query, 5).toString(),
                    "graph search over " + length + " rows " + where);
        }
    }
}
