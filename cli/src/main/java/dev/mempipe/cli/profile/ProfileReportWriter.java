package dev.mempipe.cli.profile;

import dev.mempipe.cli.Main;
import dev.mempipe.core.profile.JsonWriter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;

/**
 * Writes a {@link ProfileRun} as {@code DIR/report.json} (for scripts and for comparing runs) and
 * {@code DIR/report.html} (one self-contained page with the charts and tables, see {@link Html}).
 *
 * <p>JSON layout ({@code "schema": "mempipe-profile/1"}): {@code mempipe} (version), {@code machine},
 * {@code backend}, {@code model}, {@code roofline} ({@code peakFlops}, {@code bandwidthBytesPerSecond},
 * {@code ridgePoint}, {@code source}), and {@code rows}: per workload and context length
 * {@code workload}, {@code contextLength}, {@code decodeStepSeconds}, {@code memorySeconds},
 * {@code otherSeconds}, {@code memoryShare}, {@code relativeError}, {@code softmaxMassCovered} (null when
 * absent), {@code energy}, {@code figures} (the workload's own: {@code name}, {@code value} as shown, {@code basis}:
 * measured, model or synthetic), and {@code steps}: per step {@code step}, {@code wallNanos}, {@code seconds},
 * {@code bytesRead}, {@code bytesWritten}, {@code flops}, {@code intensity}, {@code flopsPerSecond},
 * {@code bytesPerSecond}, {@code bound}, {@code device}, {@code fellBack}. Non-finite numbers are null.
 *
 * <p>Stateless and thread-safe.
 */
public final class ProfileReportWriter {
    /** Identifies the JSON layout above; bumped when a field changes meaning or disappears. */
    public static final String SCHEMA = "mempipe-profile/1";

    private ProfileReportWriter() {
    }

    /**
     * Writes the report files into {@code dir} (created if missing; existing reports are replaced).
     *
     * @param jsonOnly write {@code report.json} only
     * @return the files written
     */
    public static List<Path> write(ProfileRun run, Path dir, boolean jsonOnly) throws IOException {
        Files.createDirectories(dir);
        List<Path> written = new ArrayList<>();
        Path json = dir.resolve("report.json");
        Files.writeString(json, json(run), StandardCharsets.UTF_8);
        written.add(json);
        if (!jsonOnly) {
            Path html = dir.resolve("report.html");
            Files.writeString(html, html(run), StandardCharsets.UTF_8);
            written.add(html);
        }
        return written;
    }

    /** The report as JSON, in the layout described above. */
    public static String json(ProfileRun run) {
        JsonWriter w = new JsonWriter().beginObject();
        w.name("schema").value(SCHEMA).name("mempipe").value(Main.version());
        w.name("machine").value(run.machine()).name("backend").value(run.backendDescription())
                .name("model").value(run.model());
        w.name("roofline").beginObject().name("peakFlops").value(run.peakFlops())
                .name("bandwidthBytesPerSecond").value(run.bandwidthBytesPerSecond())
                .name("ridgePoint").value(run.ridgePoint()).name("source").value(run.roofSource()).endObject();
        w.name("rows").beginArray();
        for (ProfileRow r : run.rows()) {
            w.beginObject().name("workload").value(r.workload()).name("contextLength").value(r.contextLength())
                    .name("decodeStepSeconds").value(r.decodeStepSeconds()).name("memorySeconds").value(r.memorySeconds())
                    .name("otherSeconds").value(r.otherSeconds()).name("memoryShare").value(r.memoryShare());
            optional(w.name("relativeError"), r.relativeError());
            optional(w.name("softmaxMassCovered"), r.softmaxMassCovered());
            w.name("energy").value(r.energy());
            w.name("figures").beginArray();
            r.figures().forEach(f -> w.beginObject().name("name").value(f.name()).name("value").value(f.value())
                    .name("basis").value(f.basis()).endObject());
            w.endArray();
            w.name("steps").beginArray();
            r.steps().forEach((step, st) -> w.beginObject().name("step").value(step.name())
                    .name("wallNanos").value(st.wallNanos()).name("seconds").value(st.seconds())
                    .name("bytesRead").value(st.bytesRead()).name("bytesWritten").value(st.bytesWritten())
                    .name("flops").value(st.flops()).name("intensity").value(st.intensity())
                    .name("flopsPerSecond").value(st.flopsPerSecond()).name("bytesPerSecond").value(st.bytesPerSecond())
                    .name("bound").value(st.bound().name()).name("device").value(st.device())
                    .name("fellBack").value(st.fellBack()).endObject());
            w.endArray().endObject();
        }
        return w.endArray().endObject().finish();
    }

    /** The self-contained HTML page. */
    public static String html(ProfileRun run) {
        return Html.page(run);
    }

    private static void optional(JsonWriter w, OptionalDouble value) {
        if (value.isPresent()) {
            w.value(value.getAsDouble());
        } else {
            w.nullValue();
        }
    }
}
