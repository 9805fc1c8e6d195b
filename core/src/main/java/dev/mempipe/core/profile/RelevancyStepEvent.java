package dev.mempipe.core.profile;

import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** One op of the {@code RELEVANCY} step, as a JDK Flight Recorder event. */
@Name("dev.mempipe.Relevancy")
@Label("Compute Relevancy")
@Description("mempipe pipeline Stage 2, scoring the memory against the query")
public final class RelevancyStepEvent extends StepEvent {
}
