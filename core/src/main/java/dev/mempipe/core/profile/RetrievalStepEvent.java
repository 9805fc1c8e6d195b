package dev.mempipe.core.profile;

import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** One op of the {@code RETRIEVAL} step, as a JDK Flight Recorder event. */
@Name("dev.mempipe.Retrieval")
@Label("Retrieval")
@Description("mempipe pipeline Stage 3, choosing what to use (top-k, thresholds, gather)")
public final class RetrievalStepEvent extends StepEvent {
}
