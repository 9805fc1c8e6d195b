package dev.mempipe.core.placement;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TransferModelTest {

    @Test
    void should_use_the_piece_that_covers_the_size_and_the_last_piece_beyond() {
        TransferModel pcie = TransferModel.piecewise(List.of(
                new TransferModel.Piece(4096, 2e-6, 1e9),
                new TransferModel.Piece(1 << 20, 8e-6, 10e9),
                new TransferModel.Piece(64L << 20, 20e-6, 24e9)));

        assertEquals(0, pcie.seconds(0));
        assertEquals(2e-6 + 1 / 1e9, pcie.seconds(1), 1e-18);
        assertEquals(2e-6 + 4096 / 1e9, pcie.seconds(4096), 1e-18);
        assertEquals(8e-6 + 4097 / 10e9, pcie.seconds(4097), 1e-18);
        assertEquals(20e-6 + (1 << 30) / 24e9, pcie.seconds(1 << 30), 1e-15);
        assertEquals(0, TransferModel.FREE.seconds(1 << 30));
        assertEquals(1e-6 + 1e9 / 5e9, TransferModel.of(1e-6, 5e9).seconds(1_000_000_000), 1e-15);
    }

    @Test
    void should_reject_unordered_pieces_and_bad_numbers() {
        assertThrows(IllegalArgumentException.class, () -> TransferModel.piecewise(List.of()));
        assertThrows(IllegalArgumentException.class, () -> TransferModel.piecewise(List.of(
                new TransferModel.Piece(100, 0, 1), new TransferModel.Piece(100, 0, 1))));
        assertThrows(IllegalArgumentException.class, () -> new TransferModel.Piece(10, -1, 1));
        assertThrows(IllegalArgumentException.class, () -> new TransferModel.Piece(10, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> TransferModel.of(0, 1).seconds(-1));
    }
}
