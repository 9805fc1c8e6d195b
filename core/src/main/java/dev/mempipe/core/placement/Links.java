package dev.mempipe.core.placement;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The links between devices, by device name, each with its {@link TransferModel}. Data between two devices
 * with no direct link goes through the host (the CPU's memory): the {@link Planner} adds both hops.
 *
 * <p>Immutable once built.
 */
public final class Links {
    private final Map<String, Map<String, TransferModel>> direct;

    private Links(Map<String, Map<String, TransferModel>> direct) {
        this.direct = direct;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The model of the direct link {@code from -> to}, if one was declared. */
    public Optional<TransferModel> direct(String from, String to) {
        return Optional.ofNullable(direct.getOrDefault(from, Map.of()).get(to));
    }

    /** Collects links. */
    public static final class Builder {
        private final Map<String, Map<String, TransferModel>> direct = new HashMap<>();

        private Builder() {
        }

        /** Declares the same model in both directions between {@code a} and {@code b}. */
        public Builder link(String a, String b, TransferModel model) {
            return oneWay(a, b, model).oneWay(b, a, model);
        }

        /** Declares the link {@code from -> to} (replacing an earlier declaration). */
        public Builder oneWay(String from, String to, TransferModel model) {
            Objects.requireNonNull(from, "from");
            Objects.requireNonNull(to, "to");
            Objects.requireNonNull(model, "model");
            if (from.equals(to)) {
                throw new IllegalArgumentException("a link needs two devices, got '" + from + "' twice");
            }
            direct.computeIfAbsent(from, k -> new HashMap<>()).put(to, model);
            return this;
        }

        public Links build() {
            Map<String, Map<String, TransferModel>> copy = new HashMap<>();
            direct.forEach((from, tos) -> copy.put(from, Map.copyOf(tos)));
            return new Links(Map.copyOf(copy));
        }
    }
}
