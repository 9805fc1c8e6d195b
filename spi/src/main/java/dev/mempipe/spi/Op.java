package dev.mempipe.spi;

/** Every op of the contract (SPEC.md), with the pipeline step it belongs to and its contract name. */
public enum Op {
    PAGE_MIN_MAX(Step.PREPARE, "pageMinMax"),
    PAGE_POOL(Step.PREPARE, "pagePool"),
    PROJECT(Step.PREPARE, "project"),
    QUANTIZE(Step.PREPARE, "quantize"),
    DEQUANTIZE(Step.PREPARE, "dequantize"),
    CONVERT(Step.PREPARE, "convert"),
    L2_NORMALIZE(Step.PREPARE, "l2Normalize"),
    ROPE(Step.PREPARE, "rope"),
    BM25_INDEX(Step.PREPARE, "bm25Index"),

    DOT(Step.RELEVANCY, "dot"),
    COSINE(Step.RELEVANCY, "cosine"),
    QUEST_BOUND(Step.RELEVANCY, "questBound"),
    GROUP_MAX(Step.RELEVANCY, "groupMax"),
    INDEXER_SCORE(Step.RELEVANCY, "indexerScore"),
    SOFTMAX(Step.RELEVANCY, "softmax"),
    BM25_SCORE(Step.RELEVANCY, "bm25Score"),

    TOP_K(Step.RETRIEVAL, "topK"),
    THRESHOLD(Step.RETRIEVAL, "threshold"),
    BITMAP_TO_INDICES(Step.RETRIEVAL, "bitmapToIndices"),
    EXPAND_BLOCKS(Step.RETRIEVAL, "expandBlocks"),
    GATHER(Step.RETRIEVAL, "gather"),

    ATTENTION(Step.APPLY, "attention"),
    SOFT_RETRIEVE(Step.APPLY, "softRetrieve"),

    // parametric memories (TrainOps): written in Prepare, read in Apply
    MLP_GRADIENT(Step.PREPARE, "mlpGradient"),
    MOMENTUM_UPDATE(Step.PREPARE, "momentumUpdate"),
    NEWTON_SCHULZ(Step.PREPARE, "newtonSchulz"),
    MLP_FORWARD(Step.APPLY, "mlpForward");

    private final Step step;
    private final String contractName;

    Op(Step step, String contractName) {
        this.step = step;
        this.contractName = contractName;
    }

    public Step step() {
        return step;
    }

    /** The name used in SPEC.md, golden case files, error messages and the {@code mempipe op} command. */
    public String contractName() {
        return contractName;
    }

    /** Looks an op up by its contract name ({@code "topK"}); fails naming the unknown name. */
    public static Op byContractName(String name) {
        for (Op op : values()) {
            if (op.contractName.equals(name)) {
                return op;
            }
        }
        throw new IllegalArgumentException("unknown op '" + name + "'; known ops: "
                + java.util.Arrays.stream(values()).map(Op::contractName).toList());
    }

    @Override
    public String toString() {
        return contractName;
    }
}
