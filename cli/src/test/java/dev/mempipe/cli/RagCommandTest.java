package dev.mempipe.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code mempipe rag} over the example corpus checked in with the LangChain4j integration (ten one-paragraph files
 * on distinct topics), with the real all-MiniLM-L6-v2 model: offline, in-process.
 */
class RagCommandTest {
    private static final Path DOCS = Path.of(System.getProperty("mempipe.repo.root", ".."))
            .resolve("integrations/langchain4j/src/test/resources/rag/docs");
    private static final Pattern RANKED = Pattern.compile("(?m)^(\\d+)\\. (\\d+\\.\\d{4})  (\\S+)#(\\d+)$");

    /** The files of the ranked passages printed, in order. */
    private static List<String> files(String out) {
        return RANKED.matcher(out).results().map(m -> m.group(3)).toList();
    }

    @Test
    void should_print_the_top_passages_of_each_query_with_scores() {
        CliRun run = CliRun.of("rag", "--docs", DOCS.toString(), "--top", "2",
                "--query", "How do bees tell each other where the flowers are?",
                "--query", "Why does some bread taste sour?");
        assertEquals(0, run.exitCode(), run::toString);
        List<String> files = files(run.out()); // two per query, in query order
        assertEquals(4, files.size(), run::toString);
        assertEquals("honeybees.txt", files.get(0), run::toString);
        assertEquals("sourdough.txt", files.get(2), run::toString);
        assertTrue(run.out().startsWith("query: How do bees tell each other where the flowers are?\n"), run::toString);
        assertTrue(run.out().contains("waggle dance"), run::toString);
        assertTrue(run.err().contains("10 passages from"), run::toString);
        Matcher first = RANKED.matcher(run.out());
        assertTrue(first.find(), run::toString);
        double score = Double.parseDouble(first.group(2));
        assertTrue(score > 0.3 && score <= 1.0, () -> "a cosine: " + run);
    }

    @Test
    void should_answer_in_bm25_and_hybrid_modes_too() {
        for (String mode : List.of("bm25", "hybrid")) {
            CliRun run = CliRun.of("rag", "--docs", DOCS.toString(), "--mode", mode, "--query", "waggle dance of bees");
            assertEquals(0, run.exitCode(), run::toString);
            assertEquals("honeybees.txt", files(run.out()).getFirst(), run::toString);
            assertEquals(3, files(run.out()).size(), run::toString);
        }
    }

    @Test
    void should_reject_bad_usage_in_one_line(@TempDir Path empty) {
        assertUsage("--docs DIR is required", "rag", "--query", "q");
        assertUsage("--query TEXT is required", "rag", "--docs", DOCS.toString());
        assertUsage("is not a directory", "rag", "--docs", empty.resolve("missing").toString(), "--query", "q");
        assertUsage("no text in", "rag", "--docs", empty.toString(), "--query", "q");
        assertUsage("--top must be in [1, 100], got 0", "rag", "--docs", DOCS.toString(), "--query", "q", "--top", "0");
        assertUsage("--top must be a whole number, got 'x'", "rag", "--docs", DOCS.toString(), "--query", "q",
                "--top", "x");
        assertUsage("--mode must be dense, bm25 or hybrid, got 'sparse'", "rag", "--docs", DOCS.toString(), "--query",
                "q", "--mode", "sparse");
    }

    @Test
    void should_name_a_file_that_is_not_utf8_and_skip_it_when_asked(@TempDir Path docs) throws Exception {
        java.nio.file.Files.writeString(docs.resolve("good.txt"), "Bees dance to show where the flowers are.");
        Path bad = docs.resolve("latin1.txt");
        java.nio.file.Files.write(bad, new byte[] {'c', 'a', 'f', (byte) 0xE9, ' ', 'a', 'u', ' ', 'l', 'a', 'i', 't'});
        CliRun stopped = CliRun.of("rag", "--docs", docs.toString(), "--mode", "bm25", "--query", "bees");
        assertEquals(CliException.USAGE, stopped.exitCode(), stopped::toString);
        assertTrue(stopped.err().contains("cannot read " + bad + ": not UTF-8 text (byte 0xe9 at offset 3"),
                stopped::toString);
        assertTrue(stopped.err().contains("--skip-unreadable"), stopped::toString);

        CliRun skipped = CliRun.of("rag", "--docs", docs.toString(), "--mode", "bm25", "--skip-unreadable",
                "--query", "bees");
        assertEquals(0, skipped.exitCode(), skipped::toString);
        assertTrue(skipped.err().contains("mempipe rag: skipping " + bad + ": not UTF-8 text"), skipped::toString);
        assertEquals(List.of("good.txt"), files(skipped.out()), skipped::toString);
    }

    @Test
    void should_embed_nothing_in_bm25_mode() {
        CliRun run = CliRun.of("rag", "--docs", DOCS.toString(), "--mode", "bm25", "--query", "sourdough bread");
        assertEquals(0, run.exitCode(), run::toString);
        assertTrue(run.err().contains("indexed by BM25") && run.err().contains("nothing embedded"), run::toString);
        assertTrue(!run.err().contains("all-MiniLM"), run::toString);
    }

    @Test
    void should_list_the_command_and_print_its_help() {
        CliRun list = CliRun.of("--help");
        assertTrue(list.out().contains("  rag "), list::toString);
        CliRun help = CliRun.of("rag", "--help");
        assertEquals(0, help.exitCode(), help::toString);
        assertTrue(help.out().startsWith("usage: mempipe rag --docs DIR --query TEXT"), help::toString);
    }

    private static void assertUsage(String expected, String... args) {
        CliRun run = CliRun.of(args);
        assertEquals(2, run.exitCode(), run::toString);
        assertTrue(run.errLine().startsWith("mempipe rag: ") && run.errLine().contains(expected), run::toString);
        assertTrue(!run.errLine().contains("\n"), run::toString);
    }
}
