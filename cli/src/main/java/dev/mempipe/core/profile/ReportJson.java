package dev.mempipe.core.profile;

/**
 * TEMPORARY SHIM, in core's package but shipped in the cli jar: a public face of core's package-private
 * {@link JsonWriter}, so that the {@code mempipe profile} report is written by the same JSON code as core's
 * {@link ProfileReport} instead of a second writer. Delete it once {@code JsonWriter} and the methods below
 * are public in core, and use {@code JsonWriter} directly (the method names are the same).
 *
 * <p>Not thread-safe, like the writer it wraps.
 */
public final class ReportJson {
    private final JsonWriter w = new JsonWriter();

    public ReportJson beginObject() {
        w.beginObject();
        return this;
    }

    public ReportJson endObject() {
        w.endObject();
        return this;
    }

    public ReportJson beginArray() {
        w.beginArray();
        return this;
    }

    public ReportJson endArray() {
        w.endArray();
        return this;
    }

    public ReportJson name(String name) {
        w.name(name);
        return this;
    }

    public ReportJson value(String value) {
        w.value(value);
        return this;
    }

    public ReportJson value(long value) {
        w.value(value);
        return this;
    }

    /** Non-finite values are written as {@code null}. */
    public ReportJson value(double value) {
        w.value(value);
        return this;
    }

    public ReportJson value(boolean value) {
        w.value(value);
        return this;
    }

    public ReportJson nullValue() {
        w.nullValue();
        return this;
    }

    /** The document; every container must be closed. */
    public String finish() {
        return w.finish();
    }
}
