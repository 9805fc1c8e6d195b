package dev.mempipe.langchain4j;

import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.io.AtomicFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real {@code kill -9} during saves: a child JVM saves two stores alternately to one file in a loop and is killed
 * (SIGKILL, no shutdown hooks, no finally blocks) at a random moment; the file must then load as exactly one of the
 * two stores. Each round starts a new child on the same folder. {@code -Dmempipe.kill.rounds=N} (default 3, a few
 * seconds) scales it up; the temporary files the kills leave are removed at the end once they are old.
 */
class KillDuringSaveTest {
    private static final int ROUNDS = Integer.getInteger("mempipe.kill.rounds", 3);
    private static final long SEED = Long.getLong("mempipe.kill.seed", System.nanoTime());
    /** Rows of each store: a save takes tens of milliseconds here, so most kills land inside one. */
    private static final int ROWS = 3000;
    private static final int D = 96;

    @TempDir
    Path dir;

    static MempipeEmbeddingStore store(int which) {
        return StoreCrashTest.store(ElementType.F32, 100 + which, ROWS, D);
    }

    @Test
    void should_leave_the_old_or_the_new_store_whole_when_killed_during_saves() throws Exception {
        System.out.println("KillDuringSaveTest seed " + SEED + ", " + ROUNDS + " rounds (-Dmempipe.kill.seed=" + SEED
                + " -Dmempipe.kill.rounds=" + ROUNDS + " reruns it)");
        List<List<String>> states = new ArrayList<>();
        for (int which = 0; which < 2; which++) {
            try (MempipeEmbeddingStore s = store(which)) {
                states.add(StoreCrashTest.contents(s));
            }
        }
        SplittableRandom random = new SplittableRandom(SEED);
        Path file = dir.resolve("store.mpes");
        int[] loaded = new int[2];
        int leftTemps = 0;
        for (int round = 0; round < ROUNDS; round++) {
            Path log = dir.resolve("child-" + round + ".log");
            Process child = start(file, log);
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line = out.readLine();
                assertThat(line).as("the child's first line (round " + round + "); its stderr: "
                        + (Files.exists(log) ? Files.readString(log) : "")).isEqualTo("saved");
                Thread.sleep(random.nextInt(20, 400));
                child.destroyForcibly(); // SIGKILL on Linux and macOS
                assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            }
            assertThat(child.exitValue()).as("killed by SIGKILL").isEqualTo(128 + 9);
            try (MempipeEmbeddingStore after = MempipeEmbeddingStore.load(file)) {
                List<String> state = StoreCrashTest.contents(after);
                int which = states.indexOf(state);
                assertThat(which).as("round " + round + ": the file is store A or store B").isNotNegative();
                loaded[which]++;
            }
            leftTemps = temps().size();
        }
        List<Path> temps = temps();
        System.out.println("KillDuringSaveTest: " + ROUNDS + " kills survived (loaded A " + loaded[0] + ", B "
                + loaded[1] + " times); " + temps.size() + " temporary files left by kills mid-save");
        for (Path t : temps) {
            Files.setLastModifiedTime(t, FileTime.from(Instant.now().minus(AtomicFile.STALE_AFTER).minusSeconds(1)));
        }
        assertThat(AtomicFile.removeStaleTemps(file, AtomicFile.STALE_AFTER)).isEqualTo(temps.size());
        assertThat(temps()).isEmpty();
        assertThat(leftTemps).isEqualTo(temps.size());
    }

    private Process start(Path file, Path log) throws IOException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> command = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                SaveLoopChild.class.getName(), file.toString()));
        return new ProcessBuilder(command).redirectError(log.toFile()).start();
    }

    private List<Path> temps() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> AtomicFile.isTempOf(p.getFileName().toString(), "store.mpes")).toList();
        }
    }
}
