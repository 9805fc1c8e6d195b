package dev.mempipe.cli.profile;

import java.util.Objects;

/**
 * A workload's own figure in the reports (FLARE's triggers per generated token, MemAgent's rewrite share), shown
 * with what it rests on, so a synthetic choice or a model is named next to the number.
 *
 * @param name  what it measures
 * @param value the number with its unit, as shown
 * @param basis {@code measured}, or {@code model: ...} / {@code synthetic: ...}
 */
public record ProfileFigure(String name, String value, String basis) {
    public ProfileFigure {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(basis, "basis");
    }
}
