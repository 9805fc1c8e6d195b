package dev.mempipe.core.memory;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Text to BM25 term ids: lowercases ({@link Locale#ROOT}), splits on every code point that is not a Unicode
 * letter or digit, and maps each word to a term id from a vocabulary that grows as new words appear (ids are
 * dense, from 0, in order of first sight). No stemming, no stop words: a baseline, not a linguistic tool.
 *
 * <p>Thread-safe: the vocabulary is a concurrent map, and a new word gets exactly one id even when several
 * threads meet it at once.
 */
public final class SimpleTokenizer {
    private final ConcurrentHashMap<String, Integer> vocabulary = new ConcurrentHashMap<>();
    private final AtomicInteger nextId = new AtomicInteger();

    /** The words of {@code text}, lowercased, in order, repeats kept. */
    public static List<String> words(String text) {
        Objects.requireNonNull(text, "text");
        String lower = text.toLowerCase(Locale.ROOT);
        List<String> words = new ArrayList<>();
        int start = -1;
        for (int i = 0; i < lower.length(); ) {
            int cp = lower.codePointAt(i);
            boolean inWord = Character.isLetterOrDigit(cp);
            if (inWord && start < 0) {
                start = i;
            } else if (!inWord && start >= 0) {
                words.add(lower.substring(start, i));
                start = -1;
            }
            i += Character.charCount(cp);
        }
        if (start >= 0) {
            words.add(lower.substring(start));
        }
        return words;
    }

    /** Term ids of {@code text}'s words, adding unseen words to the vocabulary (for documents). */
    public int[] tokenize(String text) {
        List<String> words = words(text);
        int[] ids = new int[words.size()];
        for (int i = 0; i < ids.length; i++) {
            // computeIfAbsent runs the function at most once per word, so each word gets one id
            ids[i] = vocabulary.computeIfAbsent(words.get(i), w -> nextId.getAndIncrement());
        }
        return ids;
    }

    /**
     * Term ids of the words of {@code text} already in the vocabulary; unseen words are dropped (for
     * queries: a word no document holds cannot score, and the query must not grow the vocabulary).
     */
    public int[] lookup(String text) {
        return words(text).stream().map(vocabulary::get).filter(Objects::nonNull).mapToInt(Integer::intValue)
                .toArray();
    }

    /** The id of {@code word} (already lowercased), or -1 if it has none. */
    public int termId(String word) {
        Integer id = vocabulary.get(word);
        return id == null ? -1 : id;
    }

    /** Words seen so far. */
    public int vocabularySize() {
        return nextId.get();
    }
}
