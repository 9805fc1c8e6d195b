package dev.mempipe.core.pipeline;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FlareTriggerTest {
    @Test
    void should_fire_on_exactly_the_tokens_below_the_threshold() {
        float[] p = {0.9f, 0.39f, 0.4f, 0.05f, 1f, 0.41f};
        assertArrayEquals(new int[] {1, 3}, FlareTrigger.lowConfidence(p, 0.4f), "0.4 itself is not below 0.4");
        assertTrue(FlareTrigger.fires(p, 0.4f));
        assertFalse(FlareTrigger.fires(new float[] {0.5f, 0.4f, 0.99f}, 0.4f));
        assertArrayEquals(new int[0], FlareTrigger.lowConfidence(new float[0], 0.4f));
    }

    @Test
    void should_mask_the_low_confidence_tokens_out_of_the_query_in_order() {
        int[] sentence = {10, 11, 12, 13, 14, 15};
        float[] p = {0.9f, 0.39f, 0.4f, 0.05f, 1f, 0.41f};
        assertArrayEquals(new int[] {10, 12, 14, 15}, FlareTrigger.maskedQuery(sentence, p, 0.4f));
        assertArrayEquals(sentence, FlareTrigger.maskedQuery(sentence, new float[] {1, 1, 1, 1, 1, 1}, 0.4f),
                "nothing masked when nothing is unsure");
        assertArrayEquals(new int[] {7, 8}, FlareTrigger.maskedQuery(new int[] {7, 8}, new float[] {0.1f, 0.2f}, 0.4f),
                "everything unsure: the whole sentence rather than an empty query");
    }

    @Test
    void should_reject_bad_probabilities_and_thresholds_naming_them() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FlareTrigger.lowConfidence(new float[] {0.5f, Float.NaN}, 0.4f));
        assertTrue(e.getMessage().contains("probabilities[1]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> FlareTrigger.lowConfidence(new float[] {1.5f}, 0.4f));
        assertThrows(IllegalArgumentException.class, () -> FlareTrigger.lowConfidence(new float[] {0.5f}, 1.1f));
        assertThrows(IllegalArgumentException.class,
                () -> FlareTrigger.maskedQuery(new int[] {1, 2}, new float[] {0.5f}, 0.4f));
    }
}
