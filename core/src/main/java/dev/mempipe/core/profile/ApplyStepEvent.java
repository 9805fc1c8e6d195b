package dev.mempipe.core.profile;

import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** One op of the {@code APPLY} step, as a JDK Flight Recorder event. */
@Name("dev.mempipe.Apply")
@Label("Apply to Inference")
@Description("mempipe pipeline Stage 4, using it (sparse attention, soft memory reads)")
public final class ApplyStepEvent extends StepEvent {
}
