package dev.mempipe.core.model;

import dev.mempipe.core.pipeline.AttentionShape;
import dev.mempipe.core.pipeline.TokenSelection;
import dev.mempipe.core.pipeline.Views;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Tensor;

import java.lang.foreign.Arena;
import java.util.List;

/**
 * What a sparse selection costs in accuracy, against dense attention over the same rows:
 * <ul>
 *   <li>{@code relativeError = ||o_sparse - o_dense|| / ||o_dense||} over all heads' outputs;</li>
 *   <li>{@code massCovered}: the share of the dense softmax mass the selected rows hold, averaged over the
 *       query heads (1 for a dense selection). Sparse attention renormalizes over its rows, so an output can be
 *       close even when mass is missing, if the missing rows' values average out; the mass says how much was
 *       left out.</li>
 * </ul>
 *
 * @param relativeError the output's relative L2 error
 * @param massCovered   share of the dense softmax mass on the selected rows, in [0, 1]
 * @param selectedRows  rows attended, mean over KV heads
 * @param contextRows   rows in the context
 */
public record AttentionAccuracy(double relativeError, double massCovered, double selectedRows, long contextRows) {

    /**
     * Measures a selection and its sparse output against dense attention computed with {@code backend}.
     *
     * @param keys         K {@code [L, Hkv*d]}; only the first {@code selection.length()} rows count
     * @param values       V {@code [L, Hkv*d]}
     * @param sparseOutput the workload's output {@code [Hq, d]} for {@code selection}
     */
    public static AttentionAccuracy measure(Backend backend, AttentionShape shape, Tensor q, Tensor keys, Tensor values,
                                            TokenSelection selection, Tensor sparseOutput) {
        long length = selection.length();
        Tensor k = keys.rowSlice(0, length);
        Tensor v = values.rowSlice(0, length);
        try (Arena scratch = Arena.ofShared()) {
            Tensor dense = Tensor.allocate(scratch, ElementType.F32, shape.queryHeads(), shape.headDim());
            backend.apply().attention(q, k, v, shape.kvHeads(), null, shape.scale(), dense);
            return new AttentionAccuracy(relativeError(sparseOutput.toFloatArray(), dense.toFloatArray()),
                    massCovered(backend, shape, q, k, selection), selection.meanCount(shape.kvHeads()), length);
        }
    }

    /** {@code ||approx - exact|| / ||exact||} in double; 0 when both are zero. */
    public static double relativeError(float[] approx, float[] exact) {
        if (approx.length != exact.length) {
            throw new IllegalArgumentException("lengths differ: " + approx.length + " and " + exact.length);
        }
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < exact.length; i++) {
            double e = (double) approx[i] - exact[i];
            diff += e * e;
            norm += (double) exact[i] * exact[i];
        }
        return norm == 0 ? (diff == 0 ? 0 : Double.POSITIVE_INFINITY) : Math.sqrt(diff / norm);
    }

    /**
     * The share of each query head's dense softmax mass ({@code softmax(scale * <q_h, K_i>)} over all L rows of
     * its KV head) that falls on the rows {@code selection} gives that head, averaged over the heads.
     */
    public static double massCovered(Backend backend, AttentionShape shape, Tensor q, Tensor keys,
                                     TokenSelection selection) {
        if (selection.isAll()) {
            return 1;
        }
        long length = selection.length();
        double sum = 0;
        try (Arena scratch = Arena.ofShared()) {
            Tensor p = Tensor.allocate(scratch, ElementType.F32, 1, Math.toIntExact(length)); // (1, L)
            for (int h = 0; h < shape.queryHeads(); h++) {
                int g = h / shape.groupSize();
                Tensor band = Views.kvHead(keys.rowSlice(0, length), g, shape.headDim()); // (L, d)
                backend.relevancy().dot(Views.row(q, h), band, p);
                backend.relevancy().softmax(p, shape.scale(), p);
                Indices rows = selection.rowsOf(g);
                double covered = 0;
                for (int i = 0; i < rows.length(); i++) {
                    covered += p.get(0, rows.get(i));
                }
                sum += covered;
            }
        }
        return Math.min(1, sum / shape.queryHeads());
    }

    /** The mean of each field over {@code samples} (e.g. over layers). */
    public static AttentionAccuracy mean(List<AttentionAccuracy> samples) {
        if (samples.isEmpty()) {
            throw new IllegalArgumentException("no samples to average");
        }
        double error = 0;
        double mass = 0;
        double rows = 0;
        long context = 0;
        for (AttentionAccuracy a : samples) {
            error += a.relativeError;
            mass += a.massCovered;
            rows += a.selectedRows;
            context = Math.max(context, a.contextRows);
        }
        int n = samples.size();
        return new AttentionAccuracy(error / n, mass / n, rows / n, context);
    }
}
