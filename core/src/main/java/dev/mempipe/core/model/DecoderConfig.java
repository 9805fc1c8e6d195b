package dev.mempipe.core.model;

import dev.mempipe.core.pipeline.AttentionShape;
import dev.mempipe.spi.ElementType;

import java.util.Locale;
import java.util.Objects;

/**
 * The shape of a Llama-style decoder: {@code layers} blocks of RMSNorm, grouped-query attention with RoPE,
 * RMSNorm and a SwiGLU MLP; the embedding table is tied to the LM head. Weights are random from {@code seed}
 * (the profile measures work, not text), stored as F32 or BF16.
 *
 * <p>Presets: the layer shapes of {@code mempipe profile --model}, with few layers and the embedding tied to the
 * LM head (RoPE theta 500 000 as in Llama 3). Few layers suffice: every layer does the same attention and
 * projections, so the memory pipeline's share of a decode step hardly depends on depth; only the embedding and
 * the LM head are once per step.
 * <table>
 *   <caption>Presets</caption>
 *   <tr><th>preset</th><th>layers</th><th>hidden</th><th>Hq / Hkv x d</th><th>MLP</th><th>vocab</th><th>weights</th>
 *       <th>parameters</th><th>F32 KV per token</th></tr>
 *   <tr><td>tiny</td><td>2</td><td>512</td><td>8 / 2 x 64</td><td>1536</td><td>4096</td><td>F32</td>
 *       <td>8.1 M (33 MB)</td><td>2 KiB</td></tr>
 *   <tr><td>small</td><td>4</td><td>2048</td><td>16 / 4 x 128</td><td>5632</td><td>32000</td><td>BF16</td>
 *       <td>246 M (0.5 GB), 1-3B-class layers</td><td>16 KiB</td></tr>
 *   <tr><td>medium</td><td>4</td><td>4096</td><td>32 / 8 x 128</td><td>14336</td><td>32000</td><td>BF16</td>
 *       <td>1.0 G (2 GB), Llama-3-8B-class layers</td><td>32 KiB</td></tr>
 * </table>
 * {@code tiny} is sized so that a whole default profile (six workloads at 4k, 16k and 64k tokens) runs in
 * well under two minutes on two cores; {@code medium} needs about 5 GB of memory at a 64k context (2 GB of
 * weights, 2 GB of KV cache, the workloads' own memories).
 *
 * @param layers     decoder blocks
 * @param hidden     model width
 * @param queryHeads Hq
 * @param kvHeads    Hkv, dividing Hq
 * @param headDim    d, even (RoPE rotates pairs)
 * @param mlpHidden  SwiGLU inner width
 * @param vocab      vocabulary size
 * @param weightType F32 or BF16
 * @param seed       seed of the random weights
 */
public record DecoderConfig(int layers, int hidden, int queryHeads, int kvHeads, int headDim, int mlpHidden, int vocab,
                            ElementType weightType, long seed) {
    /** Llama 3's RoPE base. */
    public static final float ROPE_THETA = 500_000f;
    /** RMSNorm's epsilon. */
    public static final float NORM_EPSILON = 1e-5f;

    public DecoderConfig {
        positive("layers", layers);
        positive("hidden", hidden);
        positive("queryHeads", queryHeads);
        positive("kvHeads", kvHeads);
        positive("headDim", headDim);
        positive("mlpHidden", mlpHidden);
        positive("vocab", vocab);
        if (queryHeads % kvHeads != 0) {
            throw new IllegalArgumentException("queryHeads " + queryHeads + " must be a multiple of kvHeads " + kvHeads);
        }
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("headDim must be even (RoPE rotates pairs), got " + headDim);
        }
        Objects.requireNonNull(weightType, "weightType");
        if (weightType != ElementType.F32 && weightType != ElementType.BF16) {
            throw new IllegalArgumentException("weightType must be F32 or BF16, got " + weightType);
        }
    }

    /** 2 layers, hidden 512, 8 query and 2 KV heads of 64, MLP 1536, vocab 4096, F32. */
    public static DecoderConfig tiny() {
        return new DecoderConfig(2, 512, 8, 2, 64, 1536, 4096, ElementType.F32, 42);
    }

    /** 4 layers, hidden 2048, 16 query and 4 KV heads of 128, MLP 5632, vocab 32000, BF16. */
    public static DecoderConfig small() {
        return new DecoderConfig(4, 2048, 16, 4, 128, 5632, 32000, ElementType.BF16, 42);
    }

    /** 4 layers, hidden 4096, 32 query and 8 KV heads of 128, MLP 14336, vocab 32000, BF16 (Llama 3 8B's layers). */
    public static DecoderConfig medium() {
        return new DecoderConfig(4, 4096, 32, 8, 128, 14336, 32000, ElementType.BF16, 42);
    }

    /** A preset by name: {@code tiny}, {@code small} or {@code medium}. */
    public static DecoderConfig preset(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "tiny" -> tiny();
            case "small" -> small();
            case "medium" -> medium();
            default -> throw new IllegalArgumentException("unknown model preset '" + name
                    + "'; presets: tiny, small, medium");
        };
    }

    public DecoderConfig withWeightType(ElementType type) {
        return new DecoderConfig(layers, hidden, queryHeads, kvHeads, headDim, mlpHidden, vocab, type, seed);
    }

    public DecoderConfig withSeed(long newSeed) {
        return new DecoderConfig(layers, hidden, queryHeads, kvHeads, headDim, mlpHidden, vocab, weightType, newSeed);
    }

    public DecoderConfig withLayers(int newLayers) {
        return new DecoderConfig(newLayers, hidden, queryHeads, kvHeads, headDim, mlpHidden, vocab, weightType, seed);
    }

    /** The attention head layout of every layer. */
    public AttentionShape attentionShape() {
        return new AttentionShape(queryHeads, kvHeads, headDim);
    }

    /** Width of all query heads, {@code Hq*d}. */
    public int queryWidth() {
        return queryHeads * headDim;
    }

    /** Width of one token's keys (or values), {@code Hkv*d}. */
    public int kvWidth() {
        return kvHeads * headDim;
    }

    /** Weights, counting the tied embedding once. */
    public long parameters() {
        long attention = (long) hidden * queryWidth() * 2 + (long) hidden * kvWidth() * 2;
        long mlp = 3L * hidden * mlpHidden;
        long norms = 2L * hidden;
        return layers * (attention + mlp + norms) + (long) vocab * hidden + hidden;
    }

    /** Bytes of F32 keys and values one token adds over all layers. */
    public long kvBytesPerToken() {
        return (long) layers * 2 * kvWidth() * Float.BYTES;
    }

    private static void positive(String name, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be >= 1, got " + value);
        }
    }
}
