package dev.mempipe.cli;

import java.io.PrintStream;
import java.util.Locale;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.StreamHandler;

/**
 * What the command's log looks like: one line per record on stderr, {@code mempipe: warning: ...}, with no
 * timestamp and no source line. By default mempipe's own warnings and errors are shown, and only errors of the
 * libraries (langchain4j and ONNX Runtime log through SLF4J, bound to java.util.logging: their warnings on a normal
 * run, such as ONNX Runtime's "Failed to detect GPU count" on a machine without CUDA, read like trouble and are not);
 * {@code -Dmempipe.log=info} (or {@code warning}, {@code debug}) shows that level and above from everyone. What a
 * normal run would log at INFO (the backend chosen) the commands print themselves, in their results.
 */
final class CliLogging {
    /** System property: the lowest level shown from everyone, {@code warning}, {@code info} or {@code debug}. */
    static final String LEVEL_PROPERTY = "mempipe.log";
    /** Held so that its level, once set, is not lost to garbage collection of an unreferenced logger. */
    private static final Logger MEMPIPE = Logger.getLogger("dev.mempipe");

    private CliLogging() {
    }

    /** Replaces java.util.logging's handlers with the one-line stderr handler; called once, by {@link Main#main}. */
    static void configure(PrintStream err) {
        String asked = System.getProperty(LEVEL_PROPERTY);
        Level level = asked == null ? Level.WARNING : level(asked);
        LogManager.getLogManager().reset();
        Logger root = Logger.getLogger("");
        root.setLevel(asked == null ? Level.SEVERE : level);
        MEMPIPE.setLevel(level);
        Handler handler = new StreamHandler(err, new OneLine()) {
            @Override
            public synchronized void publish(LogRecord record) {
                super.publish(record);
                flush(); // interleave correctly with the command's own stderr lines
            }
        };
        handler.setLevel(level);
        root.addHandler(handler);
    }

    static Level level(String name) {
        return switch (name.strip().toLowerCase(Locale.ROOT)) {
            case "debug", "fine" -> Level.FINE;
            case "trace", "all" -> Level.ALL;
            case "info" -> Level.INFO;
            case "error", "severe" -> Level.SEVERE;
            case "off" -> Level.OFF;
            default -> Level.WARNING;
        };
    }

    /** {@code mempipe: warning: message} (and the exception, if any, on the same line). */
    static final class OneLine extends Formatter {
        @Override
        public String format(LogRecord record) {
            Level l = record.getLevel();
            String level = l == Level.SEVERE ? "error" : l == Level.WARNING ? "warning"
                    : l.getName().toLowerCase(Locale.ROOT);
            String message = formatMessage(record);
            if (record.getThrown() != null) {
                message += " (" + record.getThrown() + ")";
            }
            return "mempipe: " + level + ": " + CliException.oneLine(message) + System.lineSeparator();
        }
    }
}
