package dev.mempipe.core.placement;

import dev.mempipe.core.profile.Bound;
import dev.mempipe.core.profile.OpCost;
import dev.mempipe.core.profile.Units;
import dev.mempipe.spi.Step;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Where each step runs, with the planner's predictions: time per step on its device, every transfer between
 * devices, and the total. Consecutive steps on one device form a fused group: their intermediates stay on
 * the device. All times are estimates from {@link DeviceModel}s and {@link TransferModel}s.
 *
 * <p>Immutable.
 *
 * @param host             the CPU device, which runs every step the plan does not place
 * @param placements       one per planned step, in pipeline order
 * @param transfers        every predicted move of data between devices, in pipeline order
 * @param predictedSeconds total predicted time (steps plus transfers); NaN for a plan made without models
 * @param candidates       how many assignments the planner compared (0 when none were)
 * @param runnerUp         the best assignment other than this one, or null when there was none
 * @param deviceModels     one line per device model used ({@link DeviceModel#describe()}), so that the
 *                         explanation says what the predictions rest on
 */
public record Plan(String host, List<StepPlacement> placements, List<Transfer> transfers, double predictedSeconds,
                   long candidates, Plan runnerUp, List<String> deviceModels) {

    /**
     * One step on one device.
     *
     * @param predictedSeconds predicted time of the step's ops on the device (transfers not included)
     * @param bound            which roof limits the step's summed work on that device
     */
    public record StepPlacement(Step step, String device, double predictedSeconds, OpCost cost, Bound bound) {
    }

    /**
     * Data moved between two devices.
     *
     * @param via  the device it passes through when there is no direct link (the host), or null
     * @param what why it moves: {@code "input of PREPARE"}, {@code "PREPARE -> RELEVANCY"}, {@code "result of APPLY"}
     */
    public record Transfer(String from, String to, String via, long bytes, double seconds, String what) {
    }

    /** Consecutive steps on one device, whose intermediates never leave it. */
    public record FusedGroup(String device, List<Step> steps) {
    }

    public Plan {
        Objects.requireNonNull(host, "host");
        placements = List.copyOf(placements);
        transfers = List.copyOf(transfers);
        deviceModels = List.copyOf(deviceModels);
    }

    /** Every step on {@code device}, with no predictions: the engine's plan until it is given another. */
    public static Plan allOn(String device) {
        return new Plan(device, List.of(), List.of(), Double.NaN, 0, null, List.of());
    }

    /** The device that runs {@code step}: its placement, or the host when the plan does not place it. */
    public String deviceFor(Step step) {
        for (StepPlacement p : placements) {
            if (p.step() == step) {
                return p.device();
            }
        }
        return host;
    }

    /** Groups of two or more consecutive steps on one device. */
    public List<FusedGroup> fusedGroups() {
        List<FusedGroup> groups = new ArrayList<>();
        int start = 0;
        for (int i = 1; i <= placements.size(); i++) {
            if (i == placements.size() || !placements.get(i).device().equals(placements.get(start).device())) {
                if (i - start >= 2) {
                    groups.add(new FusedGroup(placements.get(start).device(),
                            placements.subList(start, i).stream().map(StepPlacement::step).toList()));
                }
                start = i;
            }
        }
        return groups;
    }

    /** Total bytes moved between devices. */
    public long bytesMoved() {
        return transfers.stream().mapToLong(Transfer::bytes).sum();
    }

    /** Bytes moved over each link, keyed {@code "from -> to"} in first-use order (a route through the host counts once, under its ends). */
    public Map<String, Long> bytesPerLink() {
        Map<String, Long> perLink = new LinkedHashMap<>();
        for (Transfer t : transfers) {
            perLink.merge(t.from() + " -> " + t.to(), t.bytes(), Long::sum);
        }
        return perLink;
    }

    /** Predicted seconds spent moving data. */
    public double transferSeconds() {
        return transfers.stream().mapToDouble(Transfer::seconds).sum();
    }

    /** {@code PREPARE=gpu RELEVANCY=gpu RETRIEVAL=cpu-simd APPLY=cpu-simd}. */
    public String assignment() {
        StringBuilder out = new StringBuilder();
        for (StepPlacement p : placements) {
            out.append(out.isEmpty() ? "" : " ").append(p.step()).append('=').append(p.device());
        }
        return out.isEmpty() ? "every step on " + host : out.toString();
    }

    /**
     * A multi-line account of the choice: device, predicted time, bound and work per step; fused groups;
     * every transfer with its bytes and time; bytes moved in total and per link; the runner-up and how
     * much slower it is predicted to be; and the device models the predictions come from.
     */
    public String explain() {
        StringBuilder out = new StringBuilder();
        if (placements.isEmpty()) {
            return out.append("plan: every step on ").append(host).append(" (no placement computed)\n").toString();
        }
        out.append("plan (predicted by cost models: estimates, not measurements)\n");
        out.append(String.format(Locale.ROOT, "  total %s = steps %s + transfers %s; %d assignments compared%n",
                Units.seconds(predictedSeconds), Units.seconds(predictedSeconds - transferSeconds()),
                Units.seconds(transferSeconds()), candidates));
        int width = Math.max(6, placements.stream().mapToInt(p -> p.device().length()).max().orElse(6));
        for (StepPlacement p : placements) {
            OpCost c = p.cost();
            out.append(String.format(Locale.ROOT, "  %-9s on %-" + width + "s  %10s  %-7s  %s, %s read, %s written%n",
                    p.step(), p.device(), Units.seconds(p.predictedSeconds()), p.bound(), Units.flops(c.flops()),
                    Units.bytes(c.bytesRead()), Units.bytes(c.bytesWritten())));
        }
        List<FusedGroup> fused = fusedGroups();
        out.append("  fused: ");
        if (fused.isEmpty()) {
            out.append("none");
        }
        for (int i = 0; i < fused.size(); i++) {
            out.append(i == 0 ? "" : "; ").append(fused.get(i).steps()).append(" on ").append(fused.get(i).device());
        }
        out.append(fused.isEmpty() ? "\n" : " (intermediates stay on the device)\n");
        out.append("  transfers:").append(transfers.isEmpty() ? " none\n" : "\n");
        for (Transfer t : transfers) {
            out.append(String.format(Locale.ROOT, "    %s -> %s%s  %s  %s  (%s)%n", t.from(), t.to(),
                    t.via() == null ? "" : " via " + t.via(), Units.bytes(t.bytes()), Units.seconds(t.seconds()),
                    t.what()));
        }
        out.append("  bytes moved between devices: ").append(Units.bytes(bytesMoved()));
        bytesPerLink().forEach((link, bytes) -> out.append("; ").append(link).append(' ').append(Units.bytes(bytes)));
        out.append('\n');
        if (runnerUp != null) {
            out.append(String.format(Locale.ROOT, "  runner-up: %s (%+.2f%%): %s%n", Units.seconds(runnerUp.predictedSeconds),
                    100 * (runnerUp.predictedSeconds / predictedSeconds - 1), runnerUp.assignment()));
        } else {
            out.append("  runner-up: none (only one assignment is possible)\n");
        }
        for (String model : deviceModels) {
            out.append("  model ").append(model).append('\n');
        }
        return out.toString();
    }
}
