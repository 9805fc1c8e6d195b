package dev.mempipe.core.pipeline;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.CompressedMemory;
import dev.mempipe.core.profile.OpCosts;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Objects;

/**
 * HMT's hierarchical memory recall (He et al., NAACL 2025): a bounded memory of segment summary embeddings,
 * read softly.
 *
 * <ol>
 *   <li><b>Prepare</b>: each finished segment's summary embedding is appended to the
 *       {@link CompressedMemory} (the oldest is evicted when it is full).</li>
 *   <li><b>Relevancy</b>: {@code w = softmax(scale * dot(q, S))} over every held summary.</li>
 *   <li><b>Retrieval</b>: soft: every summary, with its weight. Nothing is chosen, so nothing runs.</li>
 *   <li><b>Apply</b>: the memory embedding {@code o = softRetrieve(w, S)}, which HMT feeds to the next
 *       segment.</li>
 * </ol>
 * Relevancy and Apply must see the same summaries: do not append between them.
 */
public final class HmtPipeline implements Pipeline<Tensor, Tensor, Tensor, Tensor, Tensor> {

    /** @param scale the softmax scale; NaN means {@code 1/sqrt(d)}, HMT's */
    public record Settings(float scale) {
        public static final Settings DEFAULT = new Settings(Float.NaN);

        public Settings {
            if (Float.isInfinite(scale)) {
                throw new IllegalArgumentException("scale must be finite or NaN (1/sqrt(d)), got " + scale);
            }
        }
    }

    private final Engine engine;
    private final CompressedMemory memory;
    private final float scale;
    private final Tensor weights; // (1, capacity)
    private final Tensor out;     // (1, d)

    /** @param arena where the scratch is allocated once (shared) */
    public HmtPipeline(Engine engine, CompressedMemory memory, Settings settings, Arena arena) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.memory = Objects.requireNonNull(memory, "memory");
        Objects.requireNonNull(settings, "settings");
        this.scale = Float.isNaN(settings.scale()) ? (float) (1 / Math.sqrt(memory.dimension())) : settings.scale();
        this.weights = Views.f32(arena, 1, memory.capacity());
        this.out = Views.f32(arena, 1, memory.dimension());
    }

    // ---- Prepare: append segment summaries ----

    /** Appends summaries {@code [m, d]}, oldest first. */
    @Override
    public void prepare(Tensor summaries) {
        memory.append(summaries);                                         // one Prepare step: convert
    }

    // ---- Relevancy: w = softmax(scale * dot(q, S)) ----

    /** @return weights {@code (1, n)}, oldest summary first */
    @Override
    public Tensor relevancy(Tensor query) {                               // (1, d)
        return memory.read(summaries -> {                                 // (n, d)
            int n = (int) summaries.rows();
            if (n == 0) {
                throw new IllegalStateException("the HMT memory is empty: prepare a summary before reading");
            }
            Tensor w = Views.firstColumns(weights, n);                     // (1, n)
            engine.runVoid(Op.DOT, OpCosts.dot(1, n, summaries.cols(), query.type(), summaries.type()),
                    b -> b.relevancy().dot(query, summaries, w));
            // in place: w is the softmax's input and output, so a failed device attempt must not leave it half done
            engine.runInPlace(Op.SOFTMAX, OpCosts.softmax(n, ElementType.F32, ElementType.F32), List.of(w),
                    b -> b.relevancy().softmax(w, scale, w));
            return w;
        });
    }

    // ---- Retrieval: soft, every summary keeps its weight ----

    @Override
    public Tensor retrieve(Tensor weights) {
        return weights;
    }

    // ---- Apply: o = softRetrieve(w, S) ----

    /** @return the memory embedding {@code (1, d)} */
    @Override
    public Tensor apply(Tensor query, Tensor weights) {
        return memory.read(summaries -> {                                 // (n, d)
            if (summaries.rows() != weights.cols()) {
                throw new IllegalStateException("the memory holds " + summaries.rows() + " summaries but the weights "
                        + "cover " + weights.cols() + ": it changed between Relevancy and Apply");
            }
            engine.runVoid(Op.SOFT_RETRIEVE, OpCosts.softRetrieve(summaries.rows(), summaries.cols(), weights.type(),
                    summaries.type(), out.type()), b -> b.apply().softRetrieve(weights, summaries, out));
            return out;
        });
    }

    public CompressedMemory memory() {
        return memory;
    }
}
