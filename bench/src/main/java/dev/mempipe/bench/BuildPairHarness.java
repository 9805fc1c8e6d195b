package dev.mempipe.bench;

import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Backends;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Tensor;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Two builds of mempipe compared op by op in one JVM: each benchmark jar (a baseline build and a change) is loaded by
 * a class loader of its own, and per round the same op runs through one build, then the other (which one goes first
 * alternates), over the same keys in the same memory (made once, by the baseline build, and wrapped by each: two copies
 * of the same bytes can scan at different speeds, their pages map differently). Per op and key type the figure is the
 * median of the
 * rounds' time ratios, <b>baseline / change</b> (above 1: the change is faster), with the order-statistic interval
 * that holds the true median with at least 95% probability ({@link StoreOverheadHarness#medianInterval}).
 *
 * <p>Why beside JMH: on the shared VMs these figures come from, a kernel's time drifts by 10-25% between JVMs and
 * minutes (other tenants' memory traffic); a before / after ratio of JMH forks run minutes apart carries that drift.
 * Calls milliseconds apart in one JVM see the same machine. Each build's classes are its own, so the JIT profiles and
 * compiles them apart, as in two JVMs. The time is the calling thread's CPU time: run it with
 * {@code -Dmempipe.threads=1} (the ops then run on the calling thread).
 *
 * <p>Usage: {@code BuildPairHarness BASE_JAR CHANGE_JAR [ROWS D CALLS ROUNDS OPS TYPES]}, defaults
 * {@code 2048 384 300 21 dot,dotTopK F32,BF16,I8}; ops: {@code dot} (one query), {@code dotTopK} (one query, top 10,
 * weighted, as the store's search), {@code dotThenTopK} ({@code dot}, then {@code topK} of the scores), {@code dotRows}
 * (32 rows gathered at random, as an HNSW walk scores a node's neighbours; the time is per gathered row),
 * {@code codeDotRows8} and {@code codeDotRows4} (the same 32 rows' I8 bytes as 8-bit or packed 4-bit codes, as a
 * quantized walk scores them; the key type is ignored), {@code dotTopK32} (32 queries at once, weighted: the blocked
 * plan of {@code searchAll}; the time is per key row and query), {@code dotTopK4} (4 queries: the blocked plan's 4 x 4
 * tile, which takes the queries past the last whole panel). Both jars must
 * be {@code mempipe-benchmarks.jar} builds (or any jar with the spi, ops and bench classes); the driver that runs
 * the ops inside each build is always this harness's own. Prints one line per figure.
 */
public final class BuildPairHarness {
    private static final int TOP_K = 10;
    private static final List<String> OPS = List.of("dot", "dotTopK", "dotTopK32", "dotTopK4", "dotThenTopK", "dotRows",
            "codeDotRows8", "codeDotRows4");
    /** Rows per {@code dotRows} call: about an HNSW node's neighbours. */
    private static final int GATHERED = 32;
    /** Queries of the batched op ({@code dotTopK32}): whole panels at every vector width. */
    private static final int BATCH = 32;

    private BuildPairHarness() {
    }

    public static void main(String[] args) throws ReflectiveOperationException, MalformedURLException {
        if (args.length < 2) {
            throw new IllegalArgumentException("usage: BuildPairHarness BASE_JAR CHANGE_JAR [ROWS D CALLS ROUNDS OPS "
                    + "TYPES]");
        }
        int n = args.length > 2 ? Integer.parseInt(args[2]) : 2048;
        int d = args.length > 3 ? Integer.parseInt(args[3]) : 384;
        int calls = args.length > 4 ? Integer.parseInt(args[4]) : 300;
        int rounds = args.length > 5 ? Integer.parseInt(args[5]) : 21;
        List<String> ops = List.of((args.length > 6 ? args[6] : "dot,dotTopK").split(","));
        List<String> types = List.of((args.length > 7 ? args[7] : "F32,BF16,I8").split(","));
        for (String op : ops) {
            if (!OPS.contains(op)) {
                throw new IllegalArgumentException("ops: each must be one of " + OPS + ", got " + op);
            }
        }
        for (String type : types) {
            if (!List.of("F32", "BF16", "I8").contains(type)) {
                throw new IllegalArgumentException("types: each must be one of F32, BF16, I8, got " + type);
            }
        }
        if (rounds < 6) {
            throw new IllegalArgumentException("rounds must be at least 6 (for a 95% interval), got " + rounds);
        }
        Class<?>[] builds = {build(Path.of(args[0])), build(Path.of(args[1]))};
        Object keys = invoke(builds[0].getMethod("makeKeys", int.class, int.class), n, d);
        Method[] run = new Method[2];
        for (int b = 0; b < 2; b++) {
            Thread.currentThread().setContextClassLoader(builds[b].getClassLoader()); // that build's backend
            invoke(builds[b].getMethod("setUp", MemorySegment[].class, int.class, int.class), keys, n, d);
            run[b] = builds[b].getMethod("run", String.class, String.class, int.class);
        }
        System.out.printf(Locale.ROOT, "%s (base) / %s (change): %d rows x %d, %d calls a slice, %d rounds; "
                + "ratios base time / change time (> 1: the change is faster)%n", args[0], args[1], n, d, calls,
                rounds);
        for (String op : ops) {
            for (String type : types) {
                compare(run, op, type, calls, rounds);
            }
        }
    }

    /** {@link Calls} as loaded from {@code jar}, in a class loader of its own. */
    private static Class<?> build(Path jar) throws ReflectiveOperationException, MalformedURLException {
        if (!Files.isRegularFile(jar)) {
            throw new IllegalArgumentException("no jar at " + jar);
        }
        return new BuildLoader(jar.toUri().toURL()).loadClass(Calls.class.getName());
    }

    /**
     * A build's classes from its jar, except the benchmark package's ({@link Calls} and the helpers it uses), which are
     * always this harness's own (defined here from this jar's bytes, linked against the build's spi and ops): both
     * builds run the same driver, whichever version of it their jars hold (or none, for a build made before it).
     */
    private static final class BuildLoader extends URLClassLoader {
        BuildLoader(URL jar) {
            super(new URL[] {jar}, ClassLoader.getPlatformClassLoader());
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (!name.startsWith(BuildPairHarness.class.getPackageName() + ".")) {
                return super.loadClass(name, resolve);
            }
            synchronized (getClassLoadingLock(name)) {
                Class<?> loaded = findLoadedClass(name);
                if (loaded == null) {
                    String file = "/" + name.replace('.', '/') + ".class";
                    try (InputStream in = BuildPairHarness.class.getResourceAsStream(file)) {
                        if (in == null) {
                            throw new ClassNotFoundException(name + " (no " + file + " beside the harness)");
                        }
                        byte[] bytes = in.readAllBytes();
                        loaded = defineClass(name, bytes, 0, bytes.length);
                    } catch (IOException e) {
                        throw new ClassNotFoundException(name, e);
                    }
                }
                return loaded;
            }
        }
    }

    private static void compare(Method[] run, String op, String type, int calls, int rounds)
            throws ReflectiveOperationException {
        for (int warm = 0; warm < 4; warm++) {
            invoke(run[0], op, type, calls);
            invoke(run[1], op, type, calls);
        }
        double[] ratios = new double[rounds];
        double[] base = new double[rounds];
        double[] change = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            boolean baseFirst = r % 2 == 0;
            double first = (double) invoke(run[baseFirst ? 0 : 1], op, type, calls);
            double second = (double) invoke(run[baseFirst ? 1 : 0], op, type, calls);
            base[r] = baseFirst ? first : second;
            change[r] = baseFirst ? second : first;
            ratios[r] = base[r] / change[r];
        }
        Arrays.sort(ratios);
        Arrays.sort(base);
        Arrays.sort(change);
        int[] interval = StoreOverheadHarness.medianInterval(rounds);
        System.out.printf(Locale.ROOT, "%-12s %-5s base / change %.3f [%.3f, %.3f]  base %.2f ns/row, change %.2f%n",
                op, type, StoreOverheadHarness.median(ratios), ratios[interval[0]], ratios[interval[1]],
                StoreOverheadHarness.median(base), StoreOverheadHarness.median(change));
    }

    private static Object invoke(Method method, Object... args) throws ReflectiveOperationException {
        try {
            return method.invoke(null, args);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException cause) {
                throw cause;
            }
            throw e;
        }
    }

    /**
     * What runs inside each build's class loader: the shared keys wrapped once (static: one copy per loader), then
     * timed slices of one op. Public for the reflective calls; not an API.
     */
    public static final class Calls {
        private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
        private static Backend backend;
        private static Map<ElementType, Tensor> keys;
        private static Tensor query;
        private static Tensor weights;
        private static Tensor scores;
        private static Indices idx;
        private static Tensor val;
        private static Indices[] gathered;
        private static Tensor gatheredScores;
        private static Tensor batch;
        private static Indices batchIdx;
        private static Tensor batchVal;

        private Calls() {
        }

        /**
         * n Gaussian rows of d as F32 keys and their BF16 and I8 conversions by this build's backend, a query and
         * weights in [0.9, 1.1], in a shared arena: {F32, BF16, I8, I8 scales, query, weights}.
         */
        public static MemorySegment[] makeKeys(int n, int d) {
            Backend maker = Backends.defaultBackend();
            Arena arena = Arena.ofShared(); // lives as long as the harness
            Random random = new Random(1);
            Tensor f32 = CompactKeys.gaussian(arena, n, d, random);
            Map<ElementType, Tensor> made = CompactKeys.of(maker, arena, f32);
            Tensor q = Tensor.allocate(arena, ElementType.F32, 1, d);
            for (int i = 0; i < d; i++) {
                q.set(0, i, (float) random.nextGaussian());
            }
            Tensor w = Tensor.allocate(arena, ElementType.F32, 1, n);
            for (int i = 0; i < n; i++) {
                w.set(0, i, 0.9f + 0.2f * random.nextFloat());
            }
            Tensor i8 = made.get(ElementType.I8);
            return new MemorySegment[] {f32.data(), made.get(ElementType.BF16).data(), i8.data(), i8.scales(),
                q.data(), w.data()};
        }

        /** This build's tensors over {@link #makeKeys}' memory, its backend, outputs and gathered row lists. */
        public static void setUp(MemorySegment[] shared, int n, int d) {
            backend = Backends.defaultBackend();
            Arena arena = Arena.ofShared();
            keys = new LinkedHashMap<>();
            keys.put(ElementType.F32, Tensor.wrap(shared[0], ElementType.F32, n, d));
            keys.put(ElementType.BF16, Tensor.wrap(shared[1], ElementType.BF16, n, d));
            keys.put(ElementType.I8, Tensor.wrap(shared[2], ElementType.I8, n, d, d, shared[3]));
            query = Tensor.wrap(shared[4], ElementType.F32, 1, d);
            weights = Tensor.wrap(shared[5], ElementType.F32, 1, n);
            scores = Tensor.allocate(arena, ElementType.F32, 1, n);
            idx = Indices.allocate(arena, TOP_K);
            val = Tensor.allocate(arena, ElementType.F32, 1, TOP_K);
            Random random = new Random(2);
            gathered = new Indices[64];
            for (int g = 0; g < gathered.length; g++) {
                int[] ids = new int[GATHERED];
                for (int i = 0; i < GATHERED; i++) {
                    ids[i] = random.nextInt(n);
                }
                gathered[g] = Indices.of(arena, ids);
            }
            gatheredScores = Tensor.allocate(arena, ElementType.F32, 1, GATHERED);
            batch = Tensor.allocate(arena, ElementType.F32, BATCH, d);
            for (int j = 0; j < BATCH; j++) {
                for (int i = 0; i < d; i++) {
                    batch.set(j, i, (float) random.nextGaussian());
                }
            }
            batchIdx = Indices.allocate(arena, BATCH * TOP_K);
            batchVal = Tensor.allocate(arena, ElementType.F32, BATCH, TOP_K);
        }

        /**
         * Thread CPU nanoseconds per key row scored ({@code dotRows}: per gathered row) of {@code calls} calls of
         * {@code op} over the {@code type} keys.
         */
        public static double run(String op, String type, int calls) {
            Tensor k = keys.get(ElementType.valueOf(type));
            long rowsPerCall = op.startsWith("dotRows") || op.startsWith("codeDotRows") ? GATHERED
                    : op.equals("dotTopK32") ? BATCH * k.rows() : op.equals("dotTopK4") ? 4 * k.rows() : k.rows();
            Tensor codes = keys.get(ElementType.I8); // codeDotRows reads the I8 keys' bytes as unsigned codes
            Tensor queryCodes = codes.rowSlice(0, 1);
            long start = THREADS.getCurrentThreadCpuTime();
            for (int c = 0; c < calls; c++) {
                switch (op) {
                    case "dot" -> backend.relevancy().dot(query, k, scores);
                    case "dotTopK" -> backend.fused().dotTopK(query, k, weights, null, TOP_K, idx, val);
                    case "dotThenTopK" -> {
                        backend.relevancy().dot(query, k, scores);
                        backend.retrieval().topK(scores, TOP_K, idx, val);
                    }
                    case "dotTopK32" -> backend.fused().dotTopK(batch, k, weights, null, TOP_K, batchIdx, batchVal);
                    case "dotTopK4" -> backend.fused().dotTopK(batch.rowSlice(0, 4), k, weights, null, TOP_K, batchIdx,
                            batchVal.rowSlice(0, 4));
                    case "dotRows" -> backend.relevancy().dotRows(query, k, gathered[c % gathered.length],
                            gatheredScores);
                    case "codeDotRows8", "codeDotRows4" -> backend.relevancy().codeDotRows(queryCodes, codes,
                            op.endsWith("8") ? 8 : 4, gathered[c % gathered.length], gatheredScores);
                    default -> throw new IllegalArgumentException("op must be dot, dotTopK, dotTopK32, dotTopK4, "
                            + "dotThenTopK, dotRows, codeDotRows8 or codeDotRows4, got " + op);
                }
            }
            return (THREADS.getCurrentThreadCpuTime() - start) / (double) calls / rowsPerCall;
        }
    }
}
