package dev.mempipe.langchain4j;

import java.nio.file.Path;

/**
 * The child JVM of {@link KillDuringSaveTest}: saves store A, then B, A, B, ... to one file until it is killed,
 * printing {@code saved} after the first save so that the parent knows the file exists.
 */
public final class SaveLoopChild {
    private SaveLoopChild() {
    }

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        try (MempipeEmbeddingStore a = KillDuringSaveTest.store(0);
             MempipeEmbeddingStore b = KillDuringSaveTest.store(1)) {
            a.save(file);
            System.out.println("saved");
            System.out.flush();
            for (long i = 1; ; i++) {
                (i % 2 == 0 ? a : b).save(file);
            }
        }
    }
}
