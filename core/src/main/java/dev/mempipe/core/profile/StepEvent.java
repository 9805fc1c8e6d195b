package dev.mempipe.core.profile;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.StackTrace;

/**
 * The fields every mempipe step event has; one event type per pipeline step ({@link PrepareStepEvent},
 * {@link RelevancyStepEvent}, {@link RetrievalStepEvent}, {@link ApplyStepEvent}) so that JDK Mission Control
 * shows the four steps as separate lanes. The event's duration is the op's wall time.
 *
 * <p>Record them with {@code -XX:StartFlightRecording} or a {@link jdk.jfr.Recording}; when no recording
 * enables them they cost a flag check. {@link StepEvents#forStep} makes them.
 *
 * <p>This class must not name its subclasses in code (no factory here): see {@link StepEvents} for why.
 */
@Category({"mempipe"})
@StackTrace(false)
public abstract class StepEvent extends Event {
    @Label("Op")
    @Description("The op label, e.g. dot or pagePool+project")
    public String op;

    @Label("Device")
    @Description("The backend that produced the result (the CPU after a fallback)")
    public String device;

    @Label("Bytes Read")
    @DataAmount(DataAmount.BYTES)
    public long bytesRead;

    @Label("Bytes Written")
    @DataAmount(DataAmount.BYTES)
    public long bytesWritten;

    @Label("FLOPs")
    @Description("Floating-point operations, from the analytic op cost")
    public long flops;

    @Label("Arithmetic Intensity")
    @Description("FLOPs per byte read or written")
    public double intensity;

    @Label("Ridge Point")
    @Description("FLOPs per byte at which the device model's compute and memory roofs meet")
    public double ridgePoint;

    @Label("Bound")
    @Description("MEMORY or COMPUTE against the device's ridge point (a roofline model's classification)")
    public String bound;

    @Label("Energy Available")
    @Description("Whether a readable energy counter (RAPL) measured this op")
    public boolean energyAvailable;

    @Label("Energy (J)")
    @Description("Measured package energy in joules; NaN when unavailable (never estimated)")
    public double energyJoules;

    @Label("Fallback")
    @Description("Whether a device failed and the CPU reran the op")
    public boolean fallback;

    @Label("Failed Device")
    public String fallbackFrom;

    @Label("Fallback Reason")
    public String fallbackReason;

    StepEvent() {
    }

    /** Copies a record's fields into this event. */
    public void fill(StepRecord r) {
        op = r.op();
        device = r.device();
        bytesRead = r.bytesRead();
        bytesWritten = r.bytesWritten();
        flops = r.flops();
        intensity = r.intensity();
        ridgePoint = r.ridgePoint();
        bound = r.bound().name();
        energyAvailable = r.energyJoules().isPresent();
        energyJoules = r.energyJoules().orElse(Double.NaN);
        fallback = r.fellBack();
        fallbackFrom = r.fellBack() ? r.fallback().fromDevice() : null;
        fallbackReason = r.fellBack() ? r.fallback().reason() : null;
    }
}
