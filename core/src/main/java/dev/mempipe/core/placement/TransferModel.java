package dev.mempipe.core.placement;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A <em>model</em> of moving bytes over one link (PCIe, a host-to-card DMA, a network), piecewise by size:
 * small transfers are dominated by latency and often use a different path (pinned staging, doorbells) than
 * large ones, so each size range has its own latency and bandwidth. {@code seconds(bytes) = latency +
 * bytes / bandwidth} of the first piece whose {@code upToBytes} covers the size; the last piece covers
 * every larger size too. Moving nothing costs nothing.
 *
 * <p>Immutable.
 */
public final class TransferModel {
    /** Moving between two places that share memory: free. */
    public static final TransferModel FREE = new TransferModel(List.of());

    /**
     * One size range of the model.
     *
     * @param upToBytes      the largest transfer (inclusive) this piece describes
     * @param latencySeconds fixed cost of a transfer, {@code >= 0}
     * @param bytesPerSecond sustained bandwidth, {@code > 0}
     */
    public record Piece(long upToBytes, double latencySeconds, double bytesPerSecond) {
        public Piece {
            if (upToBytes < 1) {
                throw new IllegalArgumentException("upToBytes must be >= 1, got " + upToBytes);
            }
            if (!(latencySeconds >= 0) || Double.isInfinite(latencySeconds)) {
                throw new IllegalArgumentException("latencySeconds must be finite and >= 0, got " + latencySeconds);
            }
            if (!(bytesPerSecond > 0) || Double.isInfinite(bytesPerSecond)) {
                throw new IllegalArgumentException("bytesPerSecond must be finite and > 0, got " + bytesPerSecond);
            }
        }
    }

    private final List<Piece> pieces;

    private TransferModel(List<Piece> pieces) {
        this.pieces = List.copyOf(pieces);
    }

    /** One latency and one bandwidth for every size. */
    public static TransferModel of(double latencySeconds, double bytesPerSecond) {
        return new TransferModel(List.of(new Piece(Long.MAX_VALUE, latencySeconds, bytesPerSecond)));
    }

    /**
     * A model from pieces in ascending {@code upToBytes} order.
     *
     * @throws IllegalArgumentException when there are no pieces or they are not strictly ascending
     */
    public static TransferModel piecewise(List<Piece> pieces) {
        if (pieces.isEmpty()) {
            throw new IllegalArgumentException("a transfer model needs at least one piece (use FREE for shared memory)");
        }
        for (int i = 1; i < pieces.size(); i++) {
            if (pieces.get(i).upToBytes() <= pieces.get(i - 1).upToBytes()) {
                throw new IllegalArgumentException("pieces must have ascending upToBytes, got " + pieces);
            }
        }
        return new TransferModel(pieces);
    }

    public List<Piece> pieces() {
        return pieces;
    }

    /** Predicted seconds to move {@code bytes}; 0 for 0 bytes or a {@link #FREE} link. */
    public double seconds(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("bytes must be >= 0, got " + bytes);
        }
        if (bytes == 0 || pieces.isEmpty()) {
            return 0;
        }
        Piece piece = pieces.getLast();
        for (Piece p : pieces) {
            if (bytes <= p.upToBytes()) {
                piece = p;
                break;
            }
        }
        return piece.latencySeconds() + bytes / piece.bytesPerSecond();
    }

    @Override
    public String toString() {
        if (pieces.isEmpty()) {
            return "free";
        }
        List<String> parts = new ArrayList<>();
        for (Piece p : pieces) {
            parts.add(String.format(Locale.ROOT, "<=%s: %.1f us + %.2f GB/s",
                    p.upToBytes() == Long.MAX_VALUE ? "any" : p.upToBytes() + " B", p.latencySeconds() * 1e6,
                    p.bytesPerSecond() / 1e9));
        }
        return String.join("; ", parts);
    }
}
