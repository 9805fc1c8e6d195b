package dev.mempipe.spi;

import java.lang.foreign.MemorySegment;

/**
 * Helpers for device backends that implement {@link Backend#pin(Tensor)}: finding the part of a pinned tensor
 * a view covers, and checking refresh arguments the same way everywhere.
 */
public final class Pins {
    private Pins() {
    }

    /** Fails naming the values unless {@code 0 <= fromRow <= toRow <= rows}. */
    public static void checkRefresh(Tensor host, long fromRow, long toRow) {
        if (fromRow < 0 || fromRow > host.rows()) {
            throw new IllegalArgumentException("refresh: fromRow must be in [0, " + host.rows() + "], got " + fromRow);
        }
        if (toRow < fromRow || toRow > host.rows()) {
            throw new IllegalArgumentException("refresh: toRow must be in [fromRow=" + fromRow + ", " + host.rows()
                    + "], got " + toRow);
        }
    }

    /**
     * The pin of {@code t} if {@code owner} holds it and it is open, else null (the tensor is then plain host
     * memory for that backend: upload it per call, or run on the host).
     */
    public static PinnedTensor ownedBy(Backend owner, Tensor t) {
        PinnedTensor pin = t.pin();
        return pin != null && pin.backend() == owner && pin.isOpen() ? pin : null;
    }

    /**
     * Byte offset of {@code view}'s first element within the pinned tensor's data: where the device copy of
     * the view starts. Views keep the row stride of the tensor they were cut from.
     */
    public static long dataOffset(PinnedTensor pin, Tensor view) {
        return offsetWithin(pin.tensor().data(), view.data());
    }

    /** Byte offset of {@code view}'s row scales within the pinned tensor's scales (integer types). */
    public static long scalesOffset(PinnedTensor pin, Tensor view) {
        return offsetWithin(pin.tensor().scales(), view.scales());
    }

    private static long offsetWithin(MemorySegment whole, MemorySegment part) {
        long offset = part.address() - whole.address();
        if (offset < 0 || offset + part.byteSize() > whole.byteSize()) {
            throw new IllegalStateException("a view carries a pin but lies outside the pinned memory (offset "
                    + offset + ", " + part.byteSize() + " bytes, pinned " + whole.byteSize() + ")");
        }
        return offset;
    }
}
