package dev.mempipe.core.profile;

import dev.mempipe.spi.Step;

/**
 * Makes the Flight Recorder event of a pipeline step.
 *
 * <p>Why this is not a static method of {@link StepEvent}: while a recording runs (one started at JVM launch with
 * {@code -XX:StartFlightRecording}, or any started before the first step), the JVM instruments an event class as it
 * defines it, and JFR's instrumenter then reflects on the superclass (the declared fields and methods of
 * {@code StepEvent}), which links and verifies {@code StepEvent}. Had {@code StepEvent} a method returning {@code new PrepareStepEvent()} as a
 * {@code StepEvent}, the verifier would load {@code PrepareStepEvent} to check that assignment, in the middle of
 * defining {@code PrepareStepEvent}: the class would be defined twice and the first step would fail with
 * {@code LinkageError: duplicate class definition}. A recording started after the first step never met it: by then
 * {@code StepEvent} was linked. So the base class names none of its subclasses, and this class, which no event
 * class refers to, does. {@code EngineFlightRecorderTest} launches a JVM with a recording from the start to keep it so.
 *
 * <p>Thread-safe: stateless.
 */
public final class StepEvents {
    private StepEvents() {
    }

    /** A new, not yet begun event of the type for {@code step}. */
    public static StepEvent forStep(Step step) {
        return switch (step) {
            case PREPARE -> new PrepareStepEvent();
            case RELEVANCY -> new RelevancyStepEvent();
            case RETRIEVAL -> new RetrievalStepEvent();
            case APPLY -> new ApplyStepEvent();
        };
    }
}
