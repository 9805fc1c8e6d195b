package dev.mempipe.bench;

import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Backends;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Nanoseconds per key row of the backend's one-query {@code dot} for F32, BF16 and I8 keys of the same values, on the
 * calling thread's CPU time: with few rows (cache-resident) it is the kernel's compute cost per row, with many the
 * cost with the rows streaming from memory. Says whether a compact key type is limited by its decoding or by what
 * every row costs (issue 16, "Compact keys"): run it with {@code -Dmempipe.threads=1}.
 *
 * <p>Usage: {@code DotRowCostHarness ROWS DIMENSION CALLS [ROUNDS]}; prints one line per round, the last rounds are
 * the warm ones.
 */
public final class DotRowCostHarness {
    private DotRowCostHarness() {
    }

    public static void main(String[] args) {
        if (args.length < 3) {
            throw new IllegalArgumentException("usage: DotRowCostHarness ROWS DIMENSION CALLS [ROUNDS]");
        }
        int n = Integer.parseInt(args[0]);
        int d = Integer.parseInt(args[1]);
        int calls = Integer.parseInt(args[2]);
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        Backend backend = Backends.defaultBackend();
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        Random random = new Random(1);
        try (Arena arena = Arena.ofShared()) {
            Tensor f32 = CompactKeys.gaussian(arena, n, d, random);
            Map<ElementType, Tensor> keys = CompactKeys.of(backend, arena, f32);
            Tensor query = Tensor.allocate(arena, ElementType.F32, 1, d);
            for (int i = 0; i < d; i++) {
                query.data().setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) random.nextGaussian());
            }
            Tensor scores = Tensor.allocate(arena, ElementType.F32, 1, n);
            System.out.printf(Locale.ROOT, "%s; %d rows x %d, %d calls a type a round (thread CPU time)%n",
                    backend.description(), n, d, calls);
            for (int round = 0; round < rounds; round++) {
                StringBuilder line = new StringBuilder("round " + round + ":");
                double f32Nanos = 0;
                for (Map.Entry<ElementType, Tensor> key : keys.entrySet()) {
                    long start = threads.getCurrentThreadCpuTime();
                    for (int c = 0; c < calls; c++) {
                        backend.relevancy().dot(query, key.getValue(), scores);
                    }
                    double nanos = (threads.getCurrentThreadCpuTime() - start) / (double) calls / n;
                    f32Nanos = f32Nanos == 0 ? nanos : f32Nanos;
                    line.append(String.format(Locale.ROOT, "  %s %.2f ns/row (%.2fx f32's rows/s)", key.getKey(), nanos,
                            f32Nanos / nanos));
                }
                System.out.println(line);
            }
        }
    }
}
