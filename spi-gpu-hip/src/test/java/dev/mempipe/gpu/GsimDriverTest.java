package dev.mempipe.gpu;

import dev.mempipe.spi.BackendException;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CUDA binding over gsim at the driver level: a kernel runs through its typed trampoline, pointer arguments
 * outside every allocation are refused (as a real GPU would fault, but before running), and driver errors
 * carry the call, the code and the driver's text.
 */
class GsimDriverTest {

    @Test
    void should_gather_rows_through_the_launch_trampoline() {
        try (GsimDriver driver = Gsim.driver(32); Arena arena = Arena.ofConfined()) {
            driver.loadModule(new byte[]{0});
            long gather = driver.function("mp_gather");
            MemorySegment rows = arena.allocateFrom(ValueLayout.JAVA_INT, 10, 20, 30, 40);
            MemorySegment ids = arena.allocateFrom(ValueLayout.JAVA_INT, 3, 0, 3);
            long src = driver.alloc(rows.byteSize());
            long idx = driver.alloc(ids.byteSize());
            long dst = driver.alloc(12);
            driver.copyToDevice(rows, src, rows.byteSize());
            driver.copyToDevice(ids, idx, ids.byteSize());
            driver.launch(gather, 1, 32, new KernelArgs(arena).pointer(src).int64(4).int64(4).pointer(idx).int32(3)
                    .pointer(dst));
            driver.synchronize();
            MemorySegment out = arena.allocate(12);
            driver.copyFromDevice(dst, out, 12);
            assertArrayEquals(new int[]{40, 10, 40}, out.toArray(ValueLayout.JAVA_INT));
            for (long p : new long[]{src, idx, dst}) {
                driver.free(p);
            }
        }
    }

    @Test
    void should_refuse_a_pointer_argument_outside_every_allocation() {
        try (GsimDriver driver = Gsim.driver(32); Arena arena = Arena.ofConfined()) {
            driver.loadModule(new byte[]{0});
            long gather = driver.function("mp_gather");
            MemorySegment host = arena.allocate(64); // host memory, never allocated on the device
            long dst = driver.alloc(16);
            GpuDriverException e = assertThrows(GpuDriverException.class, () -> driver.launch(gather, 1, 32,
                    new KernelArgs(arena).pointer(host.address()).int64(4).int64(4).pointer(dst).int32(1).pointer(dst)));
            assertEquals("cuLaunchKernel", e.call());
            assertEquals(1, e.code());
            assertEquals(BackendException.Fault.TRANSIENT, e.fault());
            assertTrue(e.getMessage().contains("invalid argument"), e.getMessage());
            driver.free(dst);
        }
    }

    @Test
    void should_name_the_call_and_the_drivers_text_on_errors() {
        try (GsimDriver driver = Gsim.driver(32); Arena arena = Arena.ofConfined()) {
            driver.loadModule(new byte[]{0});
            GpuDriverException missing = assertThrows(GpuDriverException.class, () -> driver.function("mp_nope"));
            assertEquals("cuModuleGetFunction(mp_nope) failed: named symbol not found (500)", missing.getMessage());
            long p = driver.alloc(8);
            GpuDriverException overrun = assertThrows(GpuDriverException.class,
                    () -> driver.copyToDevice(arena.allocate(16), p, 16));
            assertEquals("cuMemcpyHtoD_v2", overrun.call());
            driver.free(p);
            GpuDriverException twice = assertThrows(GpuDriverException.class, () -> driver.free(p));
            assertEquals("cuMemFree_v2", twice.call());
            assertThrows(IllegalArgumentException.class, () -> driver.alloc(0));
        }
    }
}
