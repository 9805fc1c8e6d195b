package dev.mempipe.core.memory;

import dev.mempipe.spi.Tensor;

/** Views that {@link Tensor} itself does not offer: a band of columns, such as one KV head of a token row. */
final class TensorViews {
    private TensorViews() {
    }

    /**
     * Columns {@code [fromCol, fromCol + cols)} of every row, sharing {@code t}'s memory (and its row scales,
     * which apply to the whole row).
     */
    static Tensor columns(Tensor t, int fromCol, int cols) {
        if (fromCol < 0 || cols < 0 || fromCol + cols > t.cols()) {
            throw new IndexOutOfBoundsException("columns [" + fromCol + ", " + (fromCol + cols) + ") of "
                    + t.shapeString());
        }
        return t.columns(fromCol, cols); // keeps a device pin, so a device reads its copy of the band
    }
}
