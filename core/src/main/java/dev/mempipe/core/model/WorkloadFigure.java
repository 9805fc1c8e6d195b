package dev.mempipe.core.model;

import java.util.Objects;

/**
 * A figure a workload reports beside its step times (FLARE's triggers per generated token, MemAgent's rewrite share
 * of reading the input), with what it rests on, so a report can say next to it when it is a model or rests on a
 * synthetic choice.
 *
 * @param name  what it measures, e.g. {@code triggers per token}
 * @param value the number
 * @param unit  its unit ({@code s}, {@code tokens}, {@code %}, or empty for a plain number)
 * @param basis {@code measured}, or {@code model: ...} / {@code synthetic: ...} naming the choice it rests on
 */
public record WorkloadFigure(String name, double value, String unit, String basis) {
    public WorkloadFigure {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(unit, "unit");
        Objects.requireNonNull(basis, "basis");
    }
}
