package dev.mempipe.cli.rag;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;
import dev.langchain4j.rag.content.Content;
import dev.langchain4j.rag.content.ContentMetadata;
import dev.mempipe.cli.Args;
import dev.mempipe.cli.CliException;
import dev.mempipe.cli.Command;
import dev.mempipe.cli.profile.Progress;
import dev.mempipe.langchain4j.rag.RagIndex;
import dev.mempipe.langchain4j.rag.RetrievalMode;
import dev.mempipe.langchain4j.rag.TextFolder;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * {@code mempipe rag --docs DIR --query TEXT [--top N] [--mode dense|bm25|hybrid]}: the offline RAG example. Splits
 * the text files of a folder into paragraphs, embeds them with the all-MiniLM-L6-v2 model that ships inside the
 * jar (no network, no API key), stores them in mempipe's embedding store and a BM25 index, and prints the top
 * passages of each query with their scores. It stops at retrieval: the passages are what a chat model would be
 * given to answer from.
 */
public final class RagCommand implements Command {
    private static final Args.Spec SPEC = new Args.Spec().value("--docs").repeatable("--query").value("--top")
            .value("--mode").flag("--skip-unreadable");
    private static final int MAX_TOP = 100;

    @Override
    public String name() {
        return "rag";
    }

    @Override
    public String summary() {
        return "answer queries with the top passages of a folder of text files (offline, local embedding model)";
    }

    @Override
    public String help() {
        return """
                usage: mempipe rag --docs DIR --query TEXT [--query TEXT ...] [--top N] [--mode MODE]
                                   [--skip-unreadable]

                Offline retrieval-augmented generation, up to the prompt: every .txt and .md file under DIR is split
                into paragraphs (at blank lines), each paragraph is embedded with all-MiniLM-L6-v2 (384-d, run
                in-process through ONNX Runtime from inside the jar: no network, no API key) and stored in mempipe's
                embedding store and BM25 index. Each query prints its top passages, best first, with their scores.

                options:
                  --docs DIR     the folder of text files (read recursively, UTF-8)
                  --query TEXT   a question; may be given several times (the corpus is embedded once)
                  --top N        passages per query, 1 to %d (default 3)
                  --mode MODE    dense (the default: embedding similarity, score (cosine + 1) / 2 as LangChain4j
                                 reports it), bm25 (word matches, BM25 score) or hybrid (both, fused by
                                 reciprocal rank: score = sum over the two lists of 1 / (60 + rank)); bm25
                                 embeds nothing and does not load the model
                  --skip-unreadable  leave out files that are not UTF-8 text (or cannot be read), naming each on
                                 stderr; without it such a file stops the command, named with the offset of its
                                 first bad byte

                output: per query a line 'query: TEXT', then per passage 'RANK. SCORE  FILE#PARAGRAPH' and the
                passage on the next line, indented. Progress goes to stderr: a long embedding shows passages done
                and an estimate of the time left.

                examples:
                  mempipe rag --docs integrations/langchain4j/src/test/resources/rag/docs \\
                      --query "How do bees tell each other where the flowers are?"
                  mempipe rag --docs notes/ --query "deadline for the report" --top 5 --mode hybrid
                """.formatted(MAX_TOP);
    }

    @Override
    public int run(List<String> tokens, PrintStream out, PrintStream err) throws CliException {
        Args args = Args.parse("mempipe rag", SPEC, tokens);
        if (!args.positionals().isEmpty()) {
            throw CliException.usage("unexpected argument " + args.positionals().getFirst() + " (see mempipe rag --help)");
        }
        String docs = args.value("--docs");
        if (docs == null) {
            throw CliException.usage("--docs DIR is required (see mempipe rag --help)");
        }
        List<String> queries = args.values("--query");
        if (queries.isEmpty()) {
            throw CliException.usage("--query TEXT is required (see mempipe rag --help)");
        }
        for (String q : queries) {
            if (q.isBlank()) {
                throw CliException.usage("--query must not be blank");
            }
        }
        int top = top(args.value("--top", "3"));
        RetrievalMode mode = mode(args.value("--mode", "dense"));

        List<TextSegment> passages = passages(docs, args.flag("--skip-unreadable"), err);
        long start = System.nanoTime();
        if (mode == RetrievalMode.BM25) {
            try (RagIndex index = RagIndex.lexical(passages)) {
                err.printf(Locale.ROOT, "mempipe rag: %d passages from %s, indexed by BM25 in %.1f s (nothing "
                        + "embedded)%n", index.size(), docs, (System.nanoTime() - start) / 1e9);
                answerAll(out, index, queries, mode, top);
            }
            return 0;
        }
        EmbeddingModel model = new AllMiniLmL6V2QuantizedEmbeddingModel();
        EmbeddingEta eta = new EmbeddingEta(err, Progress.detect(), System::nanoTime);
        RagIndex built;
        try {
            built = RagIndex.build(passages, model, eta);
        } finally {
            eta.done();
        }
        try (RagIndex index = built) {
            err.printf(Locale.ROOT, "mempipe rag: %d passages from %s, embedded with all-MiniLM-L6-v2 (%d-d) "
                    + "in %.1f s%n", index.size(), docs, model.dimension(), (System.nanoTime() - start) / 1e9);
            answerAll(out, index, queries, mode, top);
        }
        return 0;
    }

    private static void answerAll(PrintStream out, RagIndex index, List<String> queries, RetrievalMode mode,
                                  int top) {
        for (int q = 0; q < queries.size(); q++) {
            printAnswer(out, q, queries.get(q), index.search(queries.get(q), mode, top));
        }
    }

    /** Prints one query and its ranked passages; a blank line before every query but the first. */
    private static void printAnswer(PrintStream out, int q, String query, List<Content> found) {
        if (q > 0) {
            out.println();
        }
        out.println("query: " + query);
        if (found.isEmpty()) {
            out.println("  (no passage matches)");
        }
        for (int rank = 0; rank < found.size(); rank++) {
            Content c = found.get(rank);
            Object score = c.metadata().get(ContentMetadata.SCORE);
            out.printf(Locale.ROOT, "%d. %.4f  %s#%s%n", rank + 1,
                    score instanceof Number n ? n.doubleValue() : Double.NaN,
                    c.textSegment().metadata().getString(TextFolder.FILE),
                    c.textSegment().metadata().getInteger(TextFolder.PARAGRAPH));
            out.println("   " + c.textSegment().text());
        }
    }

    private static List<TextSegment> passages(String docs, boolean skipUnreadable, PrintStream err)
            throws CliException {
        List<TextSegment> passages;
        try {
            passages = TextFolder.passages(Path.of(docs), skipUnreadable
                    ? skipped -> err.println("mempipe rag: skipping " + skipped.file() + ": " + skipped.reason()) : null);
        } catch (IllegalArgumentException e) { // also InvalidPathException, a bad path string
            throw CliException.usage("--docs: " + e.getMessage(), e);
        } catch (IOException e) {
            // TextFolder names the file (and the first bad byte of text that is not UTF-8)
            throw CliException.usage("--docs: " + e.getMessage() + " (--skip-unreadable leaves such files out)", e);
        }
        if (passages.isEmpty()) {
            throw CliException.usage("--docs: no text in " + docs + " (looked for non-empty .txt and .md files)");
        }
        return passages;
    }

    private static int top(String value) throws CliException {
        int top;
        try {
            top = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw CliException.usage("--top must be a whole number, got '" + value + "'");
        }
        if (top < 1 || top > MAX_TOP) {
            throw CliException.usage("--top must be in [1, " + MAX_TOP + "], got " + top);
        }
        return top;
    }

    private static RetrievalMode mode(String value) throws CliException {
        return switch (value) {
            case "dense" -> RetrievalMode.DENSE;
            case "bm25" -> RetrievalMode.BM25;
            case "hybrid" -> RetrievalMode.HYBRID;
            default -> throw CliException.usage("--mode must be dense, bm25 or hybrid, got '" + value + "'");
        };
    }
}
