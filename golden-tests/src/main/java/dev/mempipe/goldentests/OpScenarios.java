package dev.mempipe.goldentests;

import dev.mempipe.goldentests.Gen.Profile;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Bitmap;
import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.Bm25Params;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.MlpLoss;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.PoolMode;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One ordinary call of every op of the contract, for the contracts that care how an op is called rather than
 * what it computes ({@link ConcurrencyContract}, {@link LifecycleContract}): the inputs can be made again, byte
 * for byte, in any arena (shared, or confined to the calling thread), and a call's outputs come back as bytes
 * so that two calls can be compared bit for bit.
 *
 * <p>Element types are the backend's own: F32 where declared, otherwise its first declared type.
 */
final class OpScenarios {
    private OpScenarios() {
    }

    /** Makes a scenario's inputs in an arena; the same seed gives the same bytes. */
    @FunctionalInterface
    interface Maker {
        Call make(Arena inputs);
    }

    /** One call of the op on inputs made earlier, its outputs allocated in {@code outputs}. */
    @FunctionalInterface
    interface Call {
        Result run(Backend backend, Arena outputs);
    }

    /** A call's outputs, in order: names and bytes (an int result is an output named {@code returned}). */
    record Result(List<String> names, List<byte[]> bytes) {
        /** Null when equal bit for bit, otherwise where the first difference is. */
        String firstDifference(Result other) {
            for (int i = 0; i < bytes.size(); i++) {
                long at = MemorySegment.ofArray(bytes.get(i)).mismatch(MemorySegment.ofArray(other.bytes.get(i)));
                if (at >= 0) {
                    return "output '" + names.get(i) + "' differs at byte " + at + " of " + bytes.get(i).length;
                }
            }
            return null;
        }
    }

    /** Collects a call's outputs. */
    static final class Outputs {
        private final Arena arena;
        private final List<String> names = new ArrayList<>();
        private final List<MemorySegment> segments = new ArrayList<>();
        private final List<byte[]> values = new ArrayList<>();

        Outputs(Arena arena) {
            this.arena = arena;
        }

        Tensor tensor(String name, ElementType type, long rows, int cols) {
            Tensor t = Tensor.allocate(arena, type, rows, cols);
            add(name, t.data());
            if (t.scales() != null) {
                add(name + "_scale", t.scales());
            }
            return t;
        }

        Indices indices(String name, int length) {
            Indices i = Indices.allocate(arena, length);
            add(name, i.data());
            return i;
        }

        Bitmap bitmap(String name, long bits) {
            Bitmap b = Bitmap.allocate(arena, bits);
            add(name, b.words());
            return b;
        }

        void returned(int value) {
            names.add("returned");
            segments.add(null);
            values.add(new byte[] {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value});
        }

        void returned(int[] ints) {
            MemorySegment s = MemorySegment.ofArray(ints);
            names.add("returned");
            segments.add(null);
            values.add(s.toArray(ValueLayout.JAVA_BYTE));
        }

        private void add(String name, MemorySegment s) {
            names.add(name);
            segments.add(s);
            values.add(null);
        }

        Result result() {
            List<byte[]> out = new ArrayList<>();
            for (int i = 0; i < names.size(); i++) {
                out.add(segments.get(i) == null ? values.get(i) : segments.get(i).toArray(ValueLayout.JAVA_BYTE));
            }
            return new Result(List.copyOf(names), out);
        }
    }

    /** The input type of {@code op} on a backend with {@code caps}: F32 where declared, else the first declared. */
    static ElementType inputType(Capabilities caps, Op op) {
        if (op == Op.DEQUANTIZE) {
            for (ElementType t : ElementType.values()) {
                if (t.isQuantized() && caps.supports(op, t)) {
                    return t;
                }
            }
        }
        if (caps.supports(op, ElementType.F32)) {
            return ElementType.F32;
        }
        for (ElementType t : ElementType.values()) {
            if (caps.supports(op, t) && !(op == Op.QUANTIZE && t.isQuantized())) {
                return t;
            }
        }
        throw new IllegalArgumentException("op " + op + " declares no usable input type: " + caps.types(op));
    }

    /** The output type of {@code op}: F32 where declared, else the first declared (for quantize: I8 or I16). */
    static ElementType outputType(Capabilities caps, Op op, ElementType input) {
        for (ElementType t : List.of(ElementType.F32, ElementType.I8, ElementType.F16, ElementType.BF16,
                ElementType.I16)) {
            boolean fits = switch (op) {
                case QUANTIZE -> t.isQuantized();
                case CONVERT -> t != input;
                default -> !t.isQuantized();
            };
            if (fits && caps.writes(op, t)) {
                return t;
            }
        }
        throw new IllegalArgumentException("op " + op + " declares no usable output type: " + caps.outputTypes(op));
    }

    /**
     * A scenario of {@code op} on a backend with {@code caps}; {@code scale} multiplies the row counts (1 is
     * about 64 KiB of input; 64 gives dot 2^22 multiply-adds, past the CPU backend's threshold for splitting work
     * over threads, and the train ops' products 2^21 to 2^23).
     */
    static Maker of(Op op, Capabilities caps, long seed, int scale) {
        ElementType in = inputType(caps, op);
        ElementType out = outputType(caps, op, in);
        int n = 256 * scale;
        int d = 64;
        return switch (op) {
            case PAGE_MIN_MAX -> a -> {
                Tensor keys = tensor(a, seed, in, n, d);
                return (b, o) -> outputs(o, x -> b.prepare().pageMinMax(keys, 16,
                        x.tensor("min", out, n / 16, d), x.tensor("max", out, n / 16, d)));
            };
            case PAGE_POOL -> a -> {
                Tensor keys = tensor(a, seed, in, n, d);
                return (b, o) -> outputs(o, x -> b.prepare().pagePool(keys, 16, PoolMode.MEAN,
                        x.tensor("Y", out, n / 16, d)));
            };
            case PROJECT -> a -> {
                Tensor xs = tensor(a, seed, in, 4, d);
                Tensor w = tensor(a, seed + 1, in, n / 4, d);
                return (b, o) -> outputs(o, x -> b.prepare().project(xs, w, x.tensor("Y", out, 4, n / 4)));
            };
            case QUANTIZE, DEQUANTIZE, CONVERT, L2_NORMALIZE -> a -> {
                Tensor xs = tensor(a, seed, in, n, d);
                return (b, o) -> outputs(o, x -> {
                    Tensor y = x.tensor("Y", out, n, d);
                    switch (op) {
                        case QUANTIZE -> b.prepare().quantize(xs, y);
                        case DEQUANTIZE -> b.prepare().dequantize(xs, y);
                        case CONVERT -> b.prepare().convert(xs, y);
                        default -> b.prepare().l2Normalize(xs, y);
                    }
                });
            };
            case ROPE -> a -> {
                Tensor xs = tensor(a, seed, in, n, d);
                int[] pos = new int[n];
                SplittableRandom r = new SplittableRandom(seed);
                for (int i = 0; i < n; i++) {
                    pos[i] = r.nextInt(1 << 20);
                }
                Indices positions = Indices.of(a, pos);
                return (b, o) -> outputs(o, x -> b.prepare().rope(xs, positions, 10000f, x.tensor("Y", out, n, d)));
            };
            case BM25_INDEX -> a -> {
                Indices[] corpus = corpus(a, seed, n);
                return (b, o) -> outputs(o, x -> {
                    Bm25Index index = b.prepare().bm25Index(corpus[0], corpus[1]);
                    x.returned(index.docLengths());
                    x.returned(index.postingDocs());
                    x.returned(index.postingTfs());
                });
            };
            case DOT, COSINE -> a -> {
                Tensor q = tensor(a, seed, in, 4, d);
                Tensor m = tensor(a, seed + 1, in, n, d);
                return (b, o) -> outputs(o, x -> {
                    Tensor s = x.tensor("S", out, 4, n);
                    if (op == Op.DOT) {
                        b.relevancy().dot(q, m, s);
                    } else {
                        b.relevancy().cosine(q, m, s);
                    }
                });
            };
            case DOT_TOP_K -> a -> {
                Tensor q = tensor(a, seed, in, 9, d); // two tiles of four queries and a tail of one
                Tensor keys = tensor(a, seed + 1, in, n, d);
                Tensor w = tensor(a, seed + 2, ElementType.F32, 1, n);
                Bitmap accept = Bitmap.allocate(a, n);
                SplittableRandom r = new SplittableRandom(seed);
                for (int i = 0; i < n; i++) {
                    accept.set(i, r.nextInt(4) != 0);
                }
                return (b, o) -> outputs(o, x -> x.returned(b.fused().dotTopK(q, keys, w, accept, 17,
                        x.indices("idx", 9 * 17), x.tensor("val", ElementType.F32, 9, 17))));
            };
            case DOT_ROWS -> a -> {
                Tensor q = tensor(a, seed, in, 1, d);
                Tensor keys = tensor(a, seed + 1, in, n, d);
                Indices rowIds = Indices.of(a, Gen.distinct(new SplittableRandom(seed), n, n / 4));
                return (b, o) -> outputs(o, x -> b.relevancy().dotRows(q, keys, rowIds, x.tensor("s", out, 1, n / 4)));
            };
            case CODE_DOT_ROWS -> a -> {
                Tensor q = tensor(a, seed, ElementType.I8, 1, d); // code bytes: read as unsigned 8-bit codes
                Tensor codes = tensor(a, seed + 1, ElementType.I8, n, d);
                Indices rowIds = Indices.of(a, Gen.distinct(new SplittableRandom(seed), n, n / 4));
                return (b, o) -> outputs(o, x -> b.relevancy().codeDotRows(q, codes, 8, rowIds,
                        x.tensor("s", ElementType.F32, 1, n / 4)));
            };
            case QUEST_BOUND -> a -> {
                Tensor q = tensor(a, seed, in, 4, d);
                Tensor min = tensor(a, seed + 1, in, n / 4, 4 * d); // one band per KV head
                Tensor max = tensor(a, seed + 2, in, n / 4, 4 * d);
                return (b, o) -> outputs(o, x -> b.relevancy().questBound(q, min, max, x.tensor("s", out, 4, n / 4)));
            };
            case GROUP_MAX -> a -> {
                Tensor s = tensor(a, seed, in, 4, n);
                return (b, o) -> outputs(o, x -> b.relevancy().groupMax(s, 16, x.tensor("y", out, 4, n / 16)));
            };
            case INDEXER_SCORE -> a -> {
                Tensor q = tensor(a, seed, in, 4, d);
                Tensor w = tensor(a, seed + 1, in, 1, 4);
                Tensor keys = tensor(a, seed + 2, in, n, d);
                return (b, o) -> outputs(o, x -> b.relevancy().indexerScore(q, w, keys, null, x.tensor("s", out, 1, n)));
            };
            case SOFTMAX -> a -> {
                Tensor s = tensor(a, seed, in, 1, n * 4);
                return (b, o) -> outputs(o, x -> b.relevancy().softmax(s, 0.125f, x.tensor("p", out, 1, n * 4)));
            };
            case BM25_SCORE -> a -> {
                Indices[] corpus = corpus(a, seed, n);
                Bm25Index index = new ScalarBackend().prepare().bm25Index(corpus[0], corpus[1]);
                Indices query = Indices.of(a, 1, 3, 5, 7, 11);
                return (b, o) -> outputs(o, x -> b.relevancy().bm25Score(query, index, Bm25Params.DEFAULT,
                        x.tensor("s", out, 1, index.numDocs())));
            };
            case TOP_K -> a -> {
                Tensor s = tensor(a, seed, in, 4, n);
                return (b, o) -> outputs(o, x -> x.returned(b.retrieval().topK(s, 33, x.indices("idx", 4 * 33),
                        x.tensor("val", ElementType.F32, 4, 33))));
            };
            case THRESHOLD -> a -> {
                Tensor s = tensor(a, seed, in, 4, n);
                return (b, o) -> outputs(o, x -> b.retrieval().threshold(s, 0.25f, x.bitmap("bitmap", 4L * n)));
            };
            case BITMAP_TO_INDICES -> a -> {
                Bitmap bits = Bitmap.allocate(a, 64L * n);
                SplittableRandom r = new SplittableRandom(seed);
                for (long i = 0; i < bits.length(); i++) {
                    bits.set(i, r.nextInt(3) == 0);
                }
                int card = (int) bits.cardinality();
                return (b, o) -> outputs(o, x -> x.returned(b.retrieval().bitmapToIndices(bits,
                        x.indices("indices", card))));
            };
            case EXPAND_BLOCKS -> a -> {
                SplittableRandom r = new SplittableRandom(seed);
                int[] blocks = new int[n / 16];
                for (int i = 0; i < blocks.length; i++) {
                    blocks[i] = r.nextInt(n / 4);
                }
                Indices list = Indices.of(a, blocks);
                long length = 16L * (n / 4);
                return (b, o) -> outputs(o, x -> x.returned(b.retrieval().expandBlocks(list, 16, length, 4, 64,
                        x.indices("tokens", (int) length))));
            };
            case GATHER -> a -> {
                Tensor xs = tensor(a, seed, in, n, d);
                SplittableRandom r = new SplittableRandom(seed);
                int[] rows = new int[n / 2];
                for (int i = 0; i < rows.length; i++) {
                    rows[i] = r.nextInt(n);
                }
                Indices idx = Indices.of(a, rows);
                return (b, o) -> outputs(o, x -> b.retrieval().gather(xs, idx, x.tensor("Y", in, rows.length, d)));
            };
            case ATTENTION -> a -> {
                Tensor q = tensor(a, seed, in, 4, d);
                Tensor keys = tensor(a, seed + 1, in, n, 2 * d);
                Tensor values = tensor(a, seed + 2, in, n, 2 * d);
                SplittableRandom r = new SplittableRandom(seed);
                int[] rows = Gen.distinct(r, n, n / 2);
                java.util.Arrays.sort(rows);
                Indices idx = Indices.of(a, rows);
                return (b, o) -> outputs(o, x -> b.apply().attention(q, keys, values, 2, idx, 0.125f,
                        x.tensor("o", out, 4, d)));
            };
            case SOFT_RETRIEVE -> a -> {
                Tensor w = tensor(a, seed, in, 1, n);
                Tensor values = tensor(a, seed + 1, in, n, d);
                return (b, o) -> outputs(o, x -> b.apply().softRetrieve(w, values, x.tensor("o", out, 1, d)));
            };
            case MLP_FORWARD, MLP_GRADIENT -> a -> {
                // a batch of 16 (x scale) rows of width 64 through a hidden layer of 128: SwiGLU's three products
                int rows = 16 * scale;
                int h = 128;
                Tensor xs = tensor(a, seed, in, rows, d);
                Tensor target = tensor(a, seed + 1, in, rows, d);
                Tensor w1 = tensor(a, seed + 2, in, h, d);
                Tensor w3 = tensor(a, seed + 3, in, h, d);
                Tensor w2 = tensor(a, seed + 4, in, d, h);
                return (b, o) -> outputs(o, x -> {
                    if (op == Op.MLP_FORWARD) {
                        b.train().mlpForward(xs, w1, w3, w2, x.tensor("Y", out, rows, d));
                    } else {
                        b.train().mlpGradient(xs, target, w1, w3, w2, MlpLoss.SQUARED, x.tensor("dW1", out, h, d),
                                x.tensor("dW3", out, h, d), x.tensor("dW2", out, d, h));
                    }
                });
            };
            case MOMENTUM_UPDATE -> a -> {
                // in place: each call updates its own copies of the weights and the momentum
                Tensor w0 = tensor(a, seed, in, n, d);
                Tensor g = tensor(a, seed + 1, in, n, d);
                Tensor s0 = tensor(a, seed + 2, in, n, d);
                return (b, o) -> outputs(o, x -> {
                    Tensor w = x.tensor("w", out, n, d);
                    Tensor s = x.tensor("s", out, n, d);
                    w.data().copyFrom(w0.data());
                    s.data().copyFrom(s0.data());
                    b.train().momentumUpdate(w, g, s, 0.9f, 0.01f, 0.001f);
                });
            };
            case NEWTON_SCHULZ -> a -> {
                // 8 x 64 at scale 1 (wide), 512 x 64 at scale 64 (tall: the iteration runs on G^T)
                Tensor g = tensor(a, seed, in, 8L * scale, d);
                return (b, o) -> outputs(o, x -> b.train().newtonSchulz(g, 5, x.tensor("O", out, 8L * scale, d)));
            };
        };
    }

    private static Result outputs(Arena arena, java.util.function.Consumer<Outputs> call) {
        Outputs x = new Outputs(arena);
        call.accept(x);
        return x.result();
    }

    /** A contiguous tensor filled from {@code seed} (values in [-1, 1], integer types with row scales). */
    private static Tensor tensor(Arena a, long seed, ElementType type, long rows, int cols) {
        Tensor t = Tensor.allocate(a, type, rows, cols);
        Gen.fill(new SplittableRandom(seed), t, Profile.UNIT);
        return t;
    }

    /** {@code docs} documents of 1 to 24 tokens over 40 terms, as {offsets, tokens}. */
    private static Indices[] corpus(Arena a, long seed, int docs) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] offsets = new int[docs + 1];
        int[] tokens = new int[docs * 24];
        int at = 0;
        for (int doc = 0; doc < docs; doc++) {
            int len = r.nextInt(1, 25);
            for (int i = 0; i < len; i++) {
                tokens[at++] = r.nextInt(40);
            }
            offsets[doc + 1] = at;
        }
        return new Indices[] {Indices.of(a, offsets), Indices.of(a, java.util.Arrays.copyOf(tokens, at))};
    }
}
