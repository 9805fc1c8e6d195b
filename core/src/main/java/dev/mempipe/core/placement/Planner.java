package dev.mempipe.core.placement;

import dev.mempipe.core.profile.OpCost;
import dev.mempipe.spi.Step;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Chooses a device for every step of a {@link WorkloadShape} by trying every assignment (a pipeline has at
 * most four steps and a machine few devices: 4 devices give 256 assignments) and keeping the one with the
 * least predicted time:
 * <pre>
 *   time = sum over steps of the step's ops on its device   (DeviceModel.predictSeconds, per op)
 *        + host input of each step, moved host -> its device
 *        + each step's output, moved to the next step's device when that is a different device
 *        + the last step's output, moved back to the host
 * </pre>
 * Consecutive steps on one device are fused: nothing moves between them. Two devices without a direct link
 * exchange data through the host (both hops are paid). A device is a candidate for a step only if its
 * backend declares every op of the step on the step's input types; the CPU is always a candidate, as the
 * reference that runs everything. Ties go to the assignment that uses the CPU for earlier steps (it is
 * compared first), so a device must be predicted strictly faster to be chosen.
 *
 * <p>Predictions are only as good as the models: the plan says so, and the profiler measures what really
 * happened. Immutable and thread-safe.
 */
public final class Planner {
    private final Device cpu;
    private final List<Device> devices;
    private final Links links;

    /**
     * @param cpu     the host: the CPU backend, which holds the inputs and receives the results
     * @param others  device backends (names distinct from each other and from the CPU's)
     * @param links   transfer models; every device needs a link to and from the CPU
     * @throws IllegalArgumentException naming the device when names repeat or a host link is missing
     */
    public Planner(Device cpu, List<Device> others, Links links) {
        this.cpu = Objects.requireNonNull(cpu, "cpu");
        this.links = Objects.requireNonNull(links, "links");
        List<Device> all = new ArrayList<>();
        all.add(cpu);
        all.addAll(others);
        Set<String> names = new HashSet<>();
        for (Device d : all) {
            if (!names.add(d.name())) {
                throw new IllegalArgumentException("two devices are named '" + d.name() + "'");
            }
            if (d != cpu && (links.direct(cpu.name(), d.name()).isEmpty() || links.direct(d.name(), cpu.name()).isEmpty())) {
                throw new IllegalArgumentException("device '" + d.name() + "' needs a link to and from the host '"
                        + cpu.name() + "' in both directions");
            }
        }
        this.devices = List.copyOf(all);
    }

    /** The CPU first, then the other devices in the order given. */
    public List<Device> devices() {
        return devices;
    }

    /**
     * Whether {@code device} may run {@code step}: the CPU always, another device if it declares every op on
     * the step's input types, within its {@link dev.mempipe.spi.Limits} at the step's sizes, and holds the
     * step's resident memory.
     */
    public boolean canRun(Device device, StepShape step) {
        return device == cpu || (step.residentBytes() <= device.backend().capabilities().deviceMemoryBytes()
                && step.ops().stream().allMatch(op -> op.supportedBy(device.backend().capabilities())));
    }

    /** The assignment of least predicted time, with the runner-up. */
    public Plan plan(WorkloadShape shape) {
        int steps = shape.steps().size();
        int n = devices.size();
        boolean[][] allowed = new boolean[steps][n];
        double[][] stepSeconds = new double[steps][n];
        for (int s = 0; s < steps; s++) {
            for (int d = 0; d < n; d++) {
                allowed[s][d] = canRun(devices.get(d), shape.steps().get(s));
                stepSeconds[s][d] = stepSeconds(devices.get(d), shape.steps().get(s));
            }
        }
        int[] assignment = new int[steps];
        int[] best = null;
        int[] second = null;
        double bestTime = Double.POSITIVE_INFINITY;
        double secondTime = Double.POSITIVE_INFINITY;
        long candidates = 0;
        do {
            if (feasible(assignment, allowed)) {
                candidates++;
                double time = totalSeconds(shape, assignment, stepSeconds);
                if (time < bestTime) {
                    second = best;
                    secondTime = bestTime;
                    best = assignment.clone();
                    bestTime = time;
                } else if (time < secondTime) {
                    second = assignment.clone();
                    secondTime = time;
                }
            }
        } while (next(assignment, n));
        Plan runnerUp = second == null ? null : build(shape, second, candidates, null);
        return build(shape, best, candidates, runnerUp);
    }

    /**
     * The prediction for one given assignment (for comparisons and tests); steps absent from the map run on
     * the CPU.
     *
     * @throws IllegalArgumentException when a named device is unknown or cannot run its step
     */
    public Plan evaluate(WorkloadShape shape, Map<Step, String> assignment) {
        int[] chosen = new int[shape.steps().size()];
        for (int s = 0; s < chosen.length; s++) {
            StepShape step = shape.steps().get(s);
            String name = assignment.getOrDefault(step.step(), cpu.name());
            chosen[s] = indexOf(name);
            if (!canRun(devices.get(chosen[s]), step)) {
                throw new IllegalArgumentException(step.step() + " cannot run on '" + name
                        + "': " + whyNot(devices.get(chosen[s]), step));
            }
        }
        return build(shape, chosen, 1, null);
    }

    /** Why {@code device} cannot take {@code step}, in words naming the op and the limit. */
    private static String whyNot(Device device, StepShape step) {
        var caps = device.backend().capabilities();
        if (step.residentBytes() > caps.deviceMemoryBytes()) {
            return "its memory of " + caps.deviceMemoryBytes() + " bytes cannot hold the step's " + step.residentBytes()
                    + " resident bytes";
        }
        for (OpWork op : step.ops()) {
            if (!caps.supports(op.op())) {
                return "it does not declare " + op.op();
            }
            String exceeded = op.sizes().exceeded(caps.limits(op.op()));
            if (exceeded != null) {
                return op.op() + " exceeds its limits: " + exceeded;
            }
            if (!op.supportedBy(caps)) {
                return "it does not declare " + op.op() + " on " + op.inputTypes();
            }
        }
        return "unknown";
    }

    private int indexOf(String name) {
        for (int d = 0; d < devices.size(); d++) {
            if (devices.get(d).name().equals(name)) {
                return d;
            }
        }
        throw new IllegalArgumentException("unknown device '" + name + "'; devices: "
                + devices.stream().map(Device::name).toList());
    }

    private static double stepSeconds(Device device, StepShape step) {
        double seconds = 0;
        for (OpWork op : step.ops()) {
            seconds += device.model().predictSeconds(op.op(), op.cost());
        }
        return seconds;
    }

    private static boolean feasible(int[] assignment, boolean[][] allowed) {
        for (int s = 0; s < assignment.length; s++) {
            if (!allowed[s][assignment[s]]) {
                return false;
            }
        }
        return true;
    }

    /** Advances an odometer whose first digit is the most significant, so all-CPU comes first. */
    private static boolean next(int[] assignment, int base) {
        for (int s = assignment.length - 1; s >= 0; s--) {
            if (++assignment[s] < base) {
                return true;
            }
            assignment[s] = 0;
        }
        return false;
    }

    private double totalSeconds(WorkloadShape shape, int[] assignment, double[][] stepSeconds) {
        double total = 0;
        int last = assignment.length - 1;
        for (int s = 0; s <= last; s++) {
            StepShape step = shape.steps().get(s);
            total += stepSeconds[s][assignment[s]];
            total += transferSeconds(0, assignment[s], step.hostInputBytes());
            int to = s < last ? assignment[s + 1] : 0;
            total += transferSeconds(assignment[s], to, step.outputBytes());
        }
        return total;
    }

    /** Time to move bytes from device index {@code from} to {@code to}, through the host when not linked. */
    private double transferSeconds(int from, int to, long bytes) {
        if (from == to || bytes == 0) {
            return 0;
        }
        String a = devices.get(from).name();
        String b = devices.get(to).name();
        return links.direct(a, b).map(m -> m.seconds(bytes))
                .orElseGet(() -> transferSeconds(from, 0, bytes) + transferSeconds(0, to, bytes));
    }

    private Plan build(WorkloadShape shape, int[] assignment, long candidates, Plan runnerUp) {
        List<Plan.StepPlacement> placements = new ArrayList<>();
        List<Plan.Transfer> transfers = new ArrayList<>();
        double total = 0;
        int last = assignment.length - 1;
        for (int s = 0; s <= last; s++) {
            StepShape step = shape.steps().get(s);
            Device device = devices.get(assignment[s]);
            OpCost cost = step.cost();
            double seconds = stepSeconds(device, step);
            placements.add(new Plan.StepPlacement(step.step(), device.name(), seconds, cost, device.model().bound(cost)));
            total += seconds;
            total += addTransfer(transfers, 0, assignment[s], step.hostInputBytes(), "input of " + step.step());
            int to = s < last ? assignment[s + 1] : 0;
            String what = s < last ? step.step() + " -> " + shape.steps().get(s + 1).step() : "result of " + step.step();
            total += addTransfer(transfers, assignment[s], to, step.outputBytes(), what);
        }
        List<String> models = new ArrayList<>();
        for (int d = 0; d < devices.size(); d++) {
            final int index = d;
            if (d == 0 || java.util.Arrays.stream(assignment).anyMatch(a -> a == index)) {
                models.add(devices.get(d).model().describe());
            }
        }
        return new Plan(cpu.name(), placements, transfers, total, candidates, runnerUp, models);
    }

    private double addTransfer(List<Plan.Transfer> transfers, int from, int to, long bytes, String what) {
        if (from == to || bytes == 0) {
            return 0;
        }
        String a = devices.get(from).name();
        String b = devices.get(to).name();
        boolean direct = links.direct(a, b).isPresent();
        double seconds = transferSeconds(from, to, bytes);
        transfers.add(new Plan.Transfer(a, b, direct ? null : cpu.name(), bytes, seconds, what));
        return seconds;
    }
}
