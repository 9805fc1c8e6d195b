package dev.mempipe.core.profile;

import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** One op of the {@code PREPARE} step, as a JDK Flight Recorder event. */
@Name("dev.mempipe.Prepare")
@Label("Prepare Memory")
@Description("mempipe pipeline Stage 1, turning raw context into a searchable memory")
public final class PrepareStepEvent extends StepEvent {
}
