package dev.mempipe.fpga;

import java.util.List;
import java.util.stream.Collectors;

/**
 * The Java side of the interface table in {@code src/main/hls/mempipe_kernels.h}: each kernel's arguments in
 * order, their kinds and HBM banks (src/main/hls/mempipe_interface.h). The binding sets arguments by these kinds;
 * {@code XrtBindingTest} fails when this table and the C++ one disagree. The score kernel has one build per HBM
 * channel count (8, 16, 32); a device opens the one its model names.
 */
enum XrtKernels {
    SCORE8("score8", scoreArgs(8)),
    SCORE16("score16", scoreArgs(16)),
    SCORE32("score32", scoreArgs(32)),
    TOP_K("topk", List.of(buffer("s", 4), buffer("idx", 5), buffer("val", 5), buffer("status", 5),
            scalar("m", Kind.INT), scalar("n", Kind.INT), scalar("k", Kind.INT))),
    BM25("bm25", List.of(buffer("docOffsets", 6), buffer("pairs", 6), buffer("docLen", 7), buffer("qterms", 7),
            buffer("qidf", 7), buffer("out", 7), buffer("idx", 7), buffer("val", 7), buffer("status", 7),
            scalar("numDocs", Kind.INT), scalar("numTerms", Kind.INT), scalar("k1", Kind.DOUBLE),
            scalar("b", Kind.DOUBLE), scalar("avgLen", Kind.DOUBLE), scalar("k", Kind.INT))),
    THRESHOLD("threshold", List.of(buffer("s", 4), buffer("bits", 5), buffer("status", 5), scalar("total", Kind.LONG),
            scalar("t", Kind.DOUBLE))),
    GROUP_MAX("groupmax", List.of(buffer("s", 4), buffer("y", 5), buffer("status", 5), scalar("m", Kind.INT),
            scalar("n", Kind.INT), scalar("g", Kind.INT)));

    /** The HBM channel counts the score kernel is built for. */
    static final List<Integer> SCORE_CHANNELS = List.of(8, 16, 32);

    /** The score kernel's build for {@code channels} HBM channels (8, 16 or 32). */
    static XrtKernels score(int channels) {
        return switch (channels) {
            case 8 -> SCORE8;
            case 16 -> SCORE16;
            case 32 -> SCORE32;
            default -> throw new IllegalArgumentException("the score kernel is built for 8, 16 or 32 HBM channels,"
                    + " got " + channels);
        };
    }

    /** The kernels a device with the score kernel for {@code channels} channels opens: that build and the rest. */
    static List<XrtKernels> opened(int channels) {
        XrtKernels score = score(channels);
        return java.util.Arrays.stream(values()).filter(k -> k == score || !k.isScore()).toList();
    }

    boolean isScore() {
        return this == SCORE8 || this == SCORE16 || this == SCORE32;
    }

    /** Key channels of a score build (its first arguments, keys0 .. keysC-1), 0 for the other kernels. */
    int keyChannels() {
        return switch (this) {
            case SCORE8 -> 8;
            case SCORE16 -> 16;
            case SCORE32 -> 32;
            default -> 0;
        };
    }

    /**
     * The score kernel's arguments for {@code channels} key ports (mempipe_interface.h's mempipe_score_args): keysC
     * on bank C, the small inputs on bank {@code channels % 32}, the outputs on bank {@code (channels + 1) % 32}.
     */
    private static List<Arg> scoreArgs(int channels) {
        List<Arg> a = new java.util.ArrayList<>();
        for (int c = 0; c < channels; c++) {
            a.add(buffer("keys" + c, c));
        }
        for (String name : List.of("kscale", "qf", "qi", "qscale", "weights")) {
            a.add(buffer(name, channels % 32));
        }
        for (String name : List.of("out", "idx", "val", "bits", "status")) {
            a.add(buffer(name, (channels + 1) % 32));
        }
        for (String name : List.of("op", "type", "integerPath", "m", "n", "d", "rowWords")) {
            a.add(scalar(name, Kind.INT));
        }
        a.add(scalar("row0", Kind.LONG));
        for (String name : List.of("col0", "perKeyScale", "tail", "g", "k")) {
            a.add(scalar(name, Kind.INT));
        }
        a.add(scalar("t", Kind.DOUBLE));
        return List.copyOf(a);
    }

    /** How an argument travels through {@code xrtRunSetArg}'s varargs. */
    enum Kind {
        BUFFER('B'), INT('I'), LONG('L'), DOUBLE('D');

        final char code;

        Kind(char code) {
            this.code = code;
        }
    }

    record Arg(String name, Kind kind, int bank) {
    }

    /** Words of the status buffer every kernel writes; see {@code mempipe_hls.h}. */
    static final int STATUS_WORDS = 4;
    /** The last status word, written only by a kernel that ran to its end. */
    static final long STATUS_MAGIC = 0x6d656d7069706521L;

    final String kernelName;
    final List<Arg> args;

    XrtKernels(String kernelName, List<Arg> args) {
        this.kernelName = kernelName;
        this.args = args;
    }

    int index(String argName) {
        for (int i = 0; i < args.size(); i++) {
            if (args.get(i).name().equals(argName)) {
                return i;
            }
        }
        throw new IllegalArgumentException("kernel " + kernelName + " has no argument '" + argName + "'");
    }

    /** This kernel in the format of {@code mempipe_csim_interface()}: {@code name(arg:kind:bank,...);}. */
    String describe() {
        return kernelName + args.stream().map(a -> a.name() + ":" + a.kind().code + ":" + a.bank())
                .collect(Collectors.joining(",", "(", ");"));
    }

    private static Arg buffer(String name, int bank) {
        return new Arg(name, Kind.BUFFER, bank);
    }

    private static Arg scalar(String name, Kind kind) {
        return new Arg(name, kind, -1);
    }
}
