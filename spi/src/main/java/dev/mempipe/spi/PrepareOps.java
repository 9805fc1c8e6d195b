package dev.mempipe.spi;

/**
 * Stage 1, Prepare Memory: turn raw context into a searchable memory.
 *
 * <p>Common rules for every op of every {@code *Ops} family:
 * <ul>
 *   <li>Outputs are caller-allocated tensors of exactly the stated shape. Float outputs may be F32, F16 or
 *       BF16 (computed in f32, rounded to nearest even on store); only {@code quantize}/{@code convert}
 *       write integer tensors.</li>
 *   <li>Any tensor input may have any {@link ElementType} the backend's {@link Capabilities} declare for the
 *       op; it is decoded to f32 for computation.</li>
 *   <li>Bad input (wrong shape, closed segment, bad parameter, unsupported type) throws
 *       {@link IllegalArgumentException} (or {@link IllegalStateException} for a closed segment) naming the
 *       argument and the value, before any output is written.</li>
 *   <li>Ops are stateless and thread-safe; callers must not pass overlapping input and output memory unless
 *       the op says so.</li>
 * </ul>
 */
public interface PrepareOps {

    /**
     * Per-page element-wise min and max of keys (Quest page summaries): for page p, rows
     * {@code [pP, min((p+1)P, L))}.
     *
     * @param keys     K {@code [L, d]}
     * @param pageSize P {@code >= 1}
     * @param min      out {@code [ceil(L/P), d]}
     * @param max      out {@code [ceil(L/P), d]}
     */
    void pageMinMax(Tensor keys, int pageSize, Tensor min, Tensor max);

    /**
     * Incremental {@link #pageMinMax}: {@code min}/{@code max} already summarize rows {@code [0, fromRow)};
     * this brings them up to date for rows {@code [fromRow, L)}. Only pages that contain a row
     * {@code >= fromRow} are written; a page that already held rows is merged with the new rows, a new
     * page is initialized from them. The result equals a batch {@code pageMinMax} over all L rows.
     *
     * @param fromRow first new row, in {@code [0, L]}
     */
    void pageMinMaxAppend(Tensor keys, long fromRow, int pageSize, Tensor min, Tensor max);

    /**
     * Pools each page of P rows into one row (SeerAttention-R block keys). MEAN divides by the page's actual
     * row count.
     *
     * @param keys K {@code [L, d]}
     * @param out  Y {@code [ceil(L/P), d]}
     */
    void pagePool(Tensor keys, int pageSize, PoolMode mode, Tensor out);

    /**
     * {@code Y = X W^T}.
     *
     * @param x X {@code [n, h]}
     * @param w W {@code [o, h]}
     * @param y Y {@code [n, o]}
     */
    void project(Tensor x, Tensor w, Tensor y);

    /**
     * Symmetric per-row quantization: {@code scale = maxabs(row) / maxCode}, {@code q = round_half_even(x /
     * scale)} (division in f32) clamped to {@code [-maxCode, maxCode]}; a zero row gets scale 0 and zero codes.
     *
     * @param x any type {@code [n, d]}
     * @param q I8 or I16 {@code [n, d]}; its codes and scales are written
     */
    void quantize(Tensor x, Tensor q);

    /**
     * {@code y = code * scale} per element.
     *
     * @param q I8 or I16 {@code [n, d]}
     * @param y float type {@code [n, d]}
     */
    void dequantize(Tensor q, Tensor y);

    /**
     * Any type to any type of the same shape: decode to f32, then encode (round to nearest even for F16 and
     * BF16, {@link #quantize} rules for I8 and I16).
     */
    void convert(Tensor x, Tensor y);

    /**
     * Each row divided by its L2 norm; a zero row stays zero. {@code x} and {@code y} may be the same tensor.
     *
     * @param x X {@code [n, d]}
     * @param y Y {@code [n, d]}
     */
    void l2Normalize(Tensor x, Tensor y);

    /**
     * Rotary position embedding on pairs {@code (2i, 2i+1)} of each row, angle {@code pos * theta^(-2i/d)}:
     * {@code y[2i] = x[2i] cos - x[2i+1] sin}, {@code y[2i+1] = x[2i] sin + x[2i+1] cos}. The angle is
     * computed in double. {@code x} and {@code y} may be the same tensor.
     *
     * @param x         X {@code [n, d]}, d even
     * @param positions positions {@code [n]}, each {@code >= 0}
     * @param theta     base, {@code > 0} (10000 in Llama)
     * @param y         Y {@code [n, d]}
     */
    void rope(Tensor x, Indices positions, float theta, Tensor y);

    /**
     * Builds a BM25 index over documents given as token ids: document i holds
     * {@code tokens[offsets[i] : offsets[i+1]]}.
     *
     * @param offsets {@code [N+1]}, non-decreasing, {@code offsets[0] == 0}, {@code offsets[N] <= tokens.length}
     * @param tokens  term ids, each {@code >= 0}
     */
    Bm25Index bm25Index(Indices offsets, Indices tokens);
}
