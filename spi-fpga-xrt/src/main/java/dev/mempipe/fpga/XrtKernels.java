package dev.mempipe.fpga;

import java.util.List;
import java.util.stream.Collectors;

/**
 * The Java side of the interface table in {@code src/main/hls/mempipe_kernels.h}: each kernel's arguments in
 * order, their kinds and HBM banks. The binding sets arguments by these kinds; {@code XrtInterfaceTableTest}
 * fails when this table and the C++ one disagree.
 */
enum XrtKernels {
    SCORE("score", List.of(buffer("keys", 0), buffer("kscale", 1), buffer("qf", 2), buffer("qi", 2),
            buffer("qscale", 2), buffer("out", 3), buffer("status", 3), scalar("type", Kind.INT),
            scalar("integerPath", Kind.INT), scalar("m", Kind.INT), scalar("n", Kind.INT), scalar("d", Kind.INT),
            scalar("rowWords", Kind.INT), scalar("row0", Kind.LONG), scalar("col0", Kind.INT))),
    TOP_K("topk", List.of(buffer("s", 4), buffer("idx", 5), buffer("val", 5), buffer("status", 5),
            scalar("m", Kind.INT), scalar("n", Kind.INT), scalar("k", Kind.INT))),
    BM25("bm25", List.of(buffer("docOffsets", 6), buffer("pairs", 6), buffer("docLen", 7), buffer("qterms", 7),
            buffer("qidf", 7), buffer("out", 7), buffer("status", 7), scalar("numDocs", Kind.INT),
            scalar("numTerms", Kind.INT), scalar("k1", Kind.DOUBLE), scalar("b", Kind.DOUBLE),
            scalar("avgLen", Kind.DOUBLE))),
    THRESHOLD("threshold", List.of(buffer("s", 4), buffer("bits", 5), buffer("status", 5), scalar("total", Kind.LONG),
            scalar("t", Kind.DOUBLE))),
    GROUP_MAX("groupmax", List.of(buffer("s", 4), buffer("y", 5), buffer("status", 5), scalar("m", Kind.INT),
            scalar("n", Kind.INT), scalar("g", Kind.INT)));

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
