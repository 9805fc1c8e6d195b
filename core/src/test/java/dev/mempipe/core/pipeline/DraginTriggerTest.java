package dev.mempipe.core.pipeline;

import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.function.IntPredicate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DraginTriggerTest {
    private static final IntPredicate NO_STOP_WORDS = t -> false;

    @Test
    void should_score_entropy_times_the_most_attention_from_a_later_token() {
        int[] tokens = {100, 101, 102, 103};
        float[] entropy = {2f, 3f, 1f, 5f};
        float[][] a = {
                {1f},
                {0.3f, 0.7f},
                {0.1f, 0.6f, 0.3f},
                {0.5f, 0.2f, 0.1f, 0.2f}};
        float[] s = DraginTrigger.scores(entropy, a, tokens, NO_STOP_WORDS);
        // token 0: max(0.3, 0.1, 0.5) = 0.5; token 1: max(0.6, 0.2) = 0.6; token 2: 0.1; token 3: no later token
        assertArrayEquals(new float[] {2f * 0.5f, 3f * 0.6f, 1f * 0.1f, 0f}, s, 1e-6f);
        assertEquals(1, DraginTrigger.firstTrigger(s, 1.5f), "the first token above 1.5 is token 1 (1.8)");
        assertEquals(0, DraginTrigger.firstTrigger(s, 0.9f), "token 0 (1.0) is first above 0.9");
        assertEquals(-1, DraginTrigger.firstTrigger(s, s[1]), "strictly above: the highest score does not exceed itself");
    }

    @Test
    void should_never_trigger_on_a_stop_word() {
        int[] tokens = {7, 8, 9};
        float[] entropy = {4f, 4f, 4f};
        float[][] a = {{1f}, {0.9f, 0.1f}, {0.8f, 0.1f, 0.1f}};
        float[] s = DraginTrigger.scores(entropy, a, tokens, Set.of(7)::contains);
        assertEquals(0f, s[0], "7 is a stop word");
        assertEquals(4f * 0.1f, s[1], 1e-6f);
        assertEquals(1, DraginTrigger.firstTrigger(s, 0.2f));
    }

    @Test
    void should_form_the_query_from_the_most_attended_context_tokens_in_context_order() {
        int[] context = {50, 51, 52, 53, 54, 55, 56};
        float[] weights = {0.05f, 0.30f, 0.02f, 0.25f, 0.25f, 0.03f, 0.10f};
        assertArrayEquals(new int[] {1, 3, 4}, DraginTrigger.queryPositions(weights, context, NO_STOP_WORDS, 3));
        assertArrayEquals(new int[] {51, 53, 54}, DraginTrigger.query(weights, context, NO_STOP_WORDS, 3));
        // a stop word is skipped even when it is attended most; ties go to the earlier position
        assertArrayEquals(new int[] {53, 56}, DraginTrigger.query(weights, context, Set.of(51, 54)::contains, 2));
        assertArrayEquals(new int[] {50, 51, 52, 53, 54, 55, 56},
                DraginTrigger.query(weights, context, NO_STOP_WORDS, 25), "fewer than n tokens: all of them");
        float[] tied = {0.2f, 0.2f, 0.2f, 0.2f, 0.2f};
        assertArrayEquals(new int[] {0, 1}, DraginTrigger.queryPositions(tied, new int[5], NO_STOP_WORDS, 2));
    }

    @Test
    void should_reject_inconsistent_input_naming_it() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DraginTrigger.scores(
                new float[] {1f, -1f}, new float[][] {{1f}, {0.5f, 0.5f}}, new int[] {1, 2}, NO_STOP_WORDS));
        assertTrue(e.getMessage().contains("entropies[1]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DraginTrigger.scores(new float[] {1f, 1f},
                new float[][] {{1f}, {}}, new int[] {1, 2}, NO_STOP_WORDS));
        assertThrows(IllegalArgumentException.class, () -> DraginTrigger.queryPositions(new float[2], new int[3],
                NO_STOP_WORDS, 1));
        assertThrows(IllegalArgumentException.class, () -> DraginTrigger.queryPositions(new float[2], new int[2],
                NO_STOP_WORDS, 0));
        assertThrows(IllegalArgumentException.class, () -> DraginTrigger.firstTrigger(new float[1], Float.NaN));
    }
}
