package dev.mempipe.core.profile;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A small streaming JSON writer (RFC 8259), indented two spaces, so the report needs no JSON library.
 * Non-finite numbers have no JSON form and are written as {@code null}. Not thread-safe.
 */
public final class JsonWriter {
    private final StringBuilder out = new StringBuilder();
    /** Per open container: whether it is an object, and whether it has had an element yet. */
    private final Deque<boolean[]> open = new ArrayDeque<>();
    private boolean afterName;

    public JsonWriter beginObject() {
        return begin('{', true);
    }

    public JsonWriter endObject() {
        return end('}');
    }

    public JsonWriter beginArray() {
        return begin('[', false);
    }

    public JsonWriter endArray() {
        return end(']');
    }

    public JsonWriter name(String name) {
        boolean[] top = open.peek();
        if (top == null || !top[0] || afterName) {
            throw new IllegalStateException("a name belongs directly inside an object");
        }
        separate(top);
        string(name);
        out.append(": ");
        afterName = true;
        return this;
    }

    public JsonWriter value(String value) {
        if (value == null) {
            return nullValue();
        }
        beforeValue();
        string(value);
        return this;
    }

    public JsonWriter value(long value) {
        beforeValue();
        out.append(value);
        return this;
    }

    public JsonWriter value(double value) {
        if (!Double.isFinite(value)) {
            return nullValue();
        }
        beforeValue();
        out.append(value);
        return this;
    }

    public JsonWriter value(boolean value) {
        beforeValue();
        out.append(value);
        return this;
    }

    public JsonWriter nullValue() {
        beforeValue();
        out.append("null");
        return this;
    }

    /** The document; every container must be closed. */
    public String finish() {
        if (!open.isEmpty()) {
            throw new IllegalStateException(open.size() + " JSON containers are still open");
        }
        return out.append('\n').toString();
    }

    /** Escapes as RFC 8259 requires: quote, backslash and control characters; lone surrogates as {@code \\uXXXX}. */
    public static String quote(String s) {
        JsonWriter w = new JsonWriter();
        w.string(s);
        return w.out.toString();
    }

    private JsonWriter begin(char bracket, boolean object) {
        beforeValue();
        out.append(bracket);
        open.push(new boolean[] {object, false});
        return this;
    }

    private JsonWriter end(char bracket) {
        boolean[] top = open.pop();
        if (top[0] != (bracket == '}') || afterName) {
            throw new IllegalStateException("unbalanced JSON: cannot close with " + bracket);
        }
        if (top[1]) {
            newline();
        }
        out.append(bracket);
        return this;
    }

    private void beforeValue() {
        if (afterName) {
            afterName = false;
            return;
        }
        boolean[] top = open.peek();
        if (top == null) {
            if (!out.isEmpty()) {
                throw new IllegalStateException("a JSON document has one top-level value");
            }
            return;
        }
        if (top[0]) {
            throw new IllegalStateException("a value inside an object needs a name first");
        }
        separate(top);
    }

    private void separate(boolean[] top) {
        if (top[1]) {
            out.append(',');
        }
        top[1] = true;
        newline();
    }

    private void newline() {
        out.append('\n');
        out.repeat("  ", open.size());
    }

    private void string(String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    boolean pairedHigh = Character.isHighSurrogate(c) && i + 1 < s.length()
                            && Character.isLowSurrogate(s.charAt(i + 1));
                    if (pairedHigh) {
                        out.append(c).append(s.charAt(++i));
                    } else if (c < 0x20 || Character.isSurrogate(c)) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
