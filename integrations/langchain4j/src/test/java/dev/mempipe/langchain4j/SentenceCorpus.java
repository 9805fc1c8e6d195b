package dev.mempipe.langchain4j;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded English-like sentences on a few topics, for tests that need real model embeddings of a corpus larger than
 * the suites' few words (recall of compact storage and of the graph on the real model's geometry).
 */
final class SentenceCorpus {
    private static final String[] SUBJECTS = {"the old lighthouse keeper", "a young software engineer",
            "the city council", "our neighbour's dog", "the research team", "a travelling musician", "the chef",
            "the football coach", "a retired astronaut", "the museum curator", "the night train", "a small bakery",
            "the volcano", "the honeybee colony", "the chess champion", "the orbiting station"};
    private static final String[] VERBS = {"studied", "repaired", "painted", "described", "celebrated", "measured",
            "ignored", "photographed", "sold", "cooked", "defended", "explored", "predicted", "forgot", "built",
            "translated"};
    private static final String[] OBJECTS = {"the broken bicycle", "a forgotten recipe", "the winter storm",
            "the quarterly budget", "an ancient map", "the garbage collector", "a coral reef", "the sourdough starter",
            "the opening move", "the tax return", "a distant galaxy", "the garden fence", "the jazz record",
            "the hospital roof", "a mountain trail", "the election results"};
    private static final String[] ENDINGS = {"before sunrise", "with great care", "for the third time",
            "after the meeting", "despite the rain", "in complete silence", "to everyone's surprise",
            "during the holidays", "without any help", "at the last minute"};

    private SentenceCorpus() {
    }

    static List<String> sentences(long seed, int n) {
        SplittableRandom random = new SplittableRandom(seed);
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(pick(random, SUBJECTS) + " " + pick(random, VERBS) + " " + pick(random, OBJECTS) + " "
                    + pick(random, ENDINGS));
        }
        return out;
    }

    private static String pick(SplittableRandom random, String[] words) {
        return words[random.nextInt(words.length)];
    }
}
