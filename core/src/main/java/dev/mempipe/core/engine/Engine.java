package dev.mempipe.core.engine;

import dev.mempipe.core.memory.MemoryBudget;
import dev.mempipe.core.placement.Device;
import dev.mempipe.core.placement.DeviceModel;
import dev.mempipe.core.placement.Plan;
import dev.mempipe.core.profile.EnergyMeter;
import dev.mempipe.core.profile.OpCost;
import dev.mempipe.core.profile.ProfileRecorder;
import dev.mempipe.core.profile.ProfileReport;
import dev.mempipe.core.profile.StepEvent;
import dev.mempipe.core.profile.StepEvents;
import dev.mempipe.core.profile.StepRecord;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.BackendException;
import dev.mempipe.spi.DeviceCounters;
import dev.mempipe.spi.LimitExceededException;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.Step;
import dev.mempipe.spi.Tensor;
import dev.mempipe.spi.UnsupportedElementTypeException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Runs the ops of the pipeline steps where the current {@link Plan} places them, measures each run, and
 * falls back to the CPU when a device fails.
 *
 * <p>Every {@code run} call:
 * <ol>
 *   <li>picks the backend the plan names for the step (the CPU when the plan does not place it);</li>
 *   <li>times the body with {@link System#nanoTime()} and reads the energy counter before and after, where
 *       the machine has one;</li>
 *   <li>when the body fails on a device backend with a device fault ({@link BackendException},
 *       {@link UnsupportedOperationException}, or any other {@link RuntimeException} except
 *       {@link IllegalArgumentException} and {@link IllegalStateException}, which mean bad input or a closed
 *       arena and would fail on the CPU too), or with what the device cannot take but the CPU can (a
 *       {@link LimitExceededException}: a k past its sorter, a query past its term table, which the plan could not
 *       see when the caller gave no per-call sizes; an {@link UnsupportedElementTypeException}: a type it does not
 *       declare), reruns the body on the CPU backend, so the result is still correct; the record names the failed
 *       device and the reason (input bad for every backend fails on the CPU too, with the device's failure
 *       attached);</li>
 *   <li>after a {@link BackendException} whose fault is {@link BackendException.Fault#DEVICE_LOST}, stops using
 *       that device: it logs one warning, and every later step the plan places there runs on the CPU (recorded
 *       as a fallback naming the loss) without touching the device again ({@link #lostDevices()});</li>
 *   <li>samples the planned device's {@link Backend#counters()} before and after, so the record carries the
 *       bytes moved each way, transfer time, device time and the device's own energy reading beside the wall
 *       time and the CPU's energy;</li>
 *   <li>adds a {@link StepRecord} to the profile and commits a JDK Flight Recorder event of the step's type.</li>
 * </ol>
 * A body may therefore run twice: it must write its outputs completely (every op of the contract does) and
 * must not depend on state a failed first attempt may have changed. A body that <em>updates</em> state in place
 * (reads what it writes: {@code momentumUpdate}, {@code pageMinMaxAppend} merging into a partial page, a
 * {@code softmax} whose input is its output) runs through {@link #runInPlace}: the engine copies the updated
 * tensors before a device runs the body and writes the copy back before the CPU rerun, so a device that wrote
 * part of an update and then failed cannot make the rerun apply it twice. On the CPU nothing is copied: a CPU
 * failure is not rerun.
 *
 * <p>Thread-safe: any number of threads may run steps at once (backends are thread-safe by contract, the
 * plan is replaced atomically and the profile is a synchronized recorder). Energy is a machine-wide counter,
 * so concurrent steps each see the energy of all of them. The engine does not own the backends: their
 * creator closes them.
 */
public final class Engine {
    private static final System.Logger LOG = System.getLogger(Engine.class.getName());

    private final Device cpu;
    private final Map<String, Device> devices;
    private final EnergyMeter energy;
    private final ProfileRecorder recorder;
    private final MemoryBudget memoryBudget;
    private final Set<String> reportedFailures = ConcurrentHashMap.newKeySet();
    private final Map<String, String> lost = new ConcurrentHashMap<>();
    private volatile Plan plan;

    private Engine(Builder b, Device cpu) {
        this.cpu = cpu;
        Map<String, Device> byName = new LinkedHashMap<>();
        byName.put(cpu.name(), cpu);
        for (Device d : b.devices) {
            if (byName.putIfAbsent(d.name(), d) != null) {
                throw new IllegalArgumentException("two devices are named '" + d.name() + "'");
            }
        }
        this.devices = java.util.Collections.unmodifiableMap(byName);
        this.energy = b.energy != null ? b.energy : EnergyMeter.rapl();
        this.recorder = new ProfileRecorder(b.maxRecords);
        this.memoryBudget = b.memoryBudget != null ? b.memoryBudget : MemoryBudget.shared();
        this.plan = Plan.allOn(cpu.name());
        if (b.plan != null) {
            usePlan(b.plan);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The CPU device, which runs every unplaced step and every fallback. */
    public Device cpu() {
        return cpu;
    }

    /**
     * The off-heap budget of the memories built for this engine: give them {@code memoryBudget().arena()} and a
     * memory that would pass the limit is refused before it allocates. {@link MemoryBudget#shared()} unless the
     * builder set another.
     */
    public MemoryBudget memoryBudget() {
        return memoryBudget;
    }

    /** The CPU first, then the other devices in the order they were added. */
    public List<Device> devices() {
        List<Device> all = new ArrayList<>();
        all.add(cpu);
        devices.values().stream().filter(d -> d != cpu).forEach(all::add);
        return List.copyOf(all);
    }

    /** The devices other than the CPU that the planner can place steps on. */
    public List<Device> deviceBackends() {
        return devices().subList(1, devices.size());  // an immutable view
    }

    public Plan plan() {
        return plan;
    }

    /**
     * Places steps as {@code plan} says from now on.
     *
     * @throws IllegalArgumentException when the plan names a device this engine does not have
     */
    public void usePlan(Plan plan) {
        Objects.requireNonNull(plan, "plan");
        for (Step step : Step.values()) {
            String name = plan.deviceFor(step);
            if (!devices.containsKey(name)) {
                throw new IllegalArgumentException("plan places " + step + " on unknown device '" + name
                        + "'; devices: " + devices().stream().map(Device::name).toList());
            }
        }
        this.plan = plan;
    }

    /** The backend the current plan runs {@code step} on (the CPU's when that device was lost). */
    public Backend backendFor(Step step) {
        return usable(devices.get(plan.deviceFor(step))).backend();
    }

    /**
     * Whether the current plan runs both steps on one usable device other than the CPU, where a fused op keeps
     * the intermediate on the device. On the CPU nothing crosses a link either way, so pipelines keep the steps
     * separate there and the profile attributes each step's time to it.
     */
    public boolean fusesOnDevice(Step a, Step b) {
        Device first = usable(devices.get(plan.deviceFor(a)));
        return first != cpu && first == usable(devices.get(plan.deviceFor(b)));
    }

    /** Devices lost so far ({@link BackendException#deviceLost()}), with the failure that lost each. */
    public Map<String, String> lostDevices() {
        return Map.copyOf(lost);
    }

    private Device usable(Device d) {
        return lost.containsKey(d.name()) ? cpu : d;
    }

    /**
     * Runs {@code body} for {@code step} on the planned backend, records it, and returns its result.
     *
     * @param step  the pipeline step the op belongs to (chooses the device and the JFR event type)
     * @param op    a label for the op, e.g. {@code "dot"} (a contract name where there is one)
     * @param cost  the op's analytic work ({@link dev.mempipe.core.profile.OpCosts})
     * @param body  the op, given the backend to use; it may run twice (see the class comment)
     */
    public <T> T run(Step step, String op, OpCost cost, Function<Backend, T> body) {
        return execute(step, op, null, cost, List.of(), body);
    }

    /**
     * {@link #run(Step, String, OpCost, Function)} for a contract op: its step and name label the run.
     *
     * @throws IllegalArgumentException for an op that always updates its arguments in place
     *                                  ({@code momentumUpdate}): run it with {@link #runInPlace(Op, OpCost, List, Consumer)}
     */
    public <T> T run(Op op, OpCost cost, Function<Backend, T> body) {
        return execute(op.step(), op.contractName(), requireNotInPlace(op), cost, List.of(), body);
    }

    /** {@link #run(Step, String, OpCost, Function)} for a body without a result. */
    public void runVoid(Step step, String op, OpCost cost, Consumer<Backend> body) {
        execute(step, op, null, cost, List.of(), asFunction(body));
    }

    /** {@link #run(Op, OpCost, Function)} for a body without a result. */
    public void runVoid(Op op, OpCost cost, Consumer<Backend> body) {
        execute(op.step(), op.contractName(), requireNotInPlace(op), cost, List.of(), asFunction(body));
    }

    /**
     * {@link #runVoid(Op, OpCost, Consumer)} for a body that updates {@code updated} in place: it reads them and
     * writes them. When the step runs on a device, the engine copies them first and, should the device fail, writes
     * the copy back before the CPU reruns the body, which therefore starts from the state the first attempt saw.
     *
     * @param updated every tensor (view) the body both reads and writes; nothing else the body writes may be read
     *                by it
     */
    public void runInPlace(Op op, OpCost cost, List<Tensor> updated, Consumer<Backend> body) {
        execute(op.step(), op.contractName(), op, cost, List.copyOf(updated), asFunction(body));
    }

    /** {@link #runInPlace(Op, OpCost, List, Consumer)} for a step that is not one contract op. */
    public void runInPlace(Step step, String op, OpCost cost, List<Tensor> updated, Consumer<Backend> body) {
        execute(step, op, null, cost, List.copyOf(updated), asFunction(body));
    }

    /** A snapshot of everything recorded since the engine was built or last {@link #resetProfile() reset}. */
    public ProfileReport report() {
        return recorder.report(energy.available(), energy.description());
    }

    /** Forgets the records collected so far. */
    public void resetProfile() {
        recorder.clear();
    }

    private static <T> Function<Backend, T> asFunction(Consumer<Backend> body) {
        Objects.requireNonNull(body, "body");
        return b -> {
            body.accept(b);
            return null;
        };
    }

    /** Ops whose contract updates arguments in place, whatever the call: they must declare them. */
    private static Op requireNotInPlace(Op op) {
        if (op == Op.MOMENTUM_UPDATE) {
            throw new IllegalArgumentException(op + " updates W and S in place: run it with runInPlace, naming them,"
                    + " so that a device failure cannot apply the update twice");
        }
        return op;
    }

    private <T> T execute(Step step, String op, Op contractOp, OpCost cost, List<Tensor> updated,
                          Function<Backend, T> body) {
        Objects.requireNonNull(step, "step");
        Objects.requireNonNull(op, "op");
        Objects.requireNonNull(cost, "cost");
        Objects.requireNonNull(body, "body");
        Device planned = devices.get(plan.deviceFor(step));
        StepEvent event = StepEvents.forStep(step);
        event.begin();
        EnergyMeter.Sample energyBefore = energy.sample();
        long start = System.nanoTime();
        Device ran = planned;
        StepRecord.Fallback fallback = null;
        DeviceCounters transfers = DeviceCounters.NONE;
        T result;
        String lostBecause = lost.get(planned.name());
        if (lostBecause != null) {
            // a lost device is never touched again: its steps go straight to the CPU, and the record says why
            fallback = new StepRecord.Fallback(planned.name(), "device lost earlier: " + lostBecause);
            ran = cpu;
            result = body.apply(cpu.backend());
        } else {
            DeviceCounters before = planned == cpu ? null : planned.backend().counters();
            // only a device run can be rerun, so only a device run needs the updated state saved
            UpdatedTensors saved = planned == cpu || updated.isEmpty() ? null : UpdatedTensors.take(updated);
            try {
                result = body.apply(planned.backend());
            } catch (RuntimeException failure) {
                if (planned == cpu || !isDeviceFault(failure)) {
                    throw failure;
                }
                if (saved != null) {
                    saved.restore(); // undo what the device wrote before it failed
                }
                fallback = new StepRecord.Fallback(planned.name(), failure.getClass().getName() + ": " + failure.getMessage());
                if (failure instanceof BackendException be && be.deviceLost()) {
                    markLost(planned, failure);
                } else {
                    logFallback(step, op, planned, failure);
                }
                ran = cpu;
                try {
                    result = body.apply(cpu.backend());
                } catch (RuntimeException cpuFailure) {
                    cpuFailure.addSuppressed(failure);
                    throw cpuFailure;
                }
            } finally {
                if (saved != null) {
                    saved.close();
                }
                if (before != null) {
                    transfers = countersSince(planned, before);
                }
            }
        }
        long wallNanos = System.nanoTime() - start;
        OptionalDouble joules = energy.joulesSince(energyBefore);
        DeviceModel model = ran.model();
        StepRecord record = new StepRecord(step, op, ran.name(), wallNanos, cost, model.ridgePoint(),
                model.predictSeconds(contractOp, cost), joules, fallback, transfers);
        recorder.add(record);
        if (event.shouldCommit()) {
            event.fill(record);
            event.commit();
        }
        return result;
    }

    /** The device's report since {@code before}; a device that cannot report any more (lost) reports nothing. */
    private static DeviceCounters countersSince(Device device, DeviceCounters before) {
        try {
            return device.backend().counters().minus(before);
        } catch (RuntimeException unreadable) {
            return DeviceCounters.NONE;
        }
    }

    private void markLost(Device device, RuntimeException failure) {
        if (lost.putIfAbsent(device.name(), failure.getMessage()) == null) {
            LOG.log(System.Logger.Level.WARNING, () -> "device " + device.name() + " is lost (" + failure.getMessage()
                    + "); every step planned on it runs on " + cpu.name() + " from now on", failure);
        }
    }

    /** A fault of the device rather than of the input, or a call past what it declares: what the CPU can run. */
    static boolean isDeviceFault(RuntimeException e) {
        if (e instanceof BackendException || e instanceof UnsupportedOperationException
                || e instanceof LimitExceededException || e instanceof UnsupportedElementTypeException) {
            return true;
        }
        return !(e instanceof IllegalArgumentException) && !(e instanceof IllegalStateException);
    }

    private void logFallback(Step step, String op, Device device, RuntimeException failure) {
        // One warning per device and op; later ones only at debug level, so a broken device cannot flood the log.
        boolean first = reportedFailures.add(device.name() + "/" + op);
        LOG.log(first ? System.Logger.Level.WARNING : System.Logger.Level.DEBUG,
                () -> step + " " + op + " failed on " + device.name() + ", rerunning on " + cpu.name() + ": " + failure,
                first ? failure : null);
    }

    /** Configures an {@link Engine}. */
    public static final class Builder {
        private Device cpu;
        private final List<Device> devices = new ArrayList<>();
        private Plan plan;
        private EnergyMeter energy;
        private int maxRecords = 100_000;
        private MemoryBudget memoryBudget;

        private Builder() {
        }

        /**
         * The CPU device. Default: the SIMD backend found through {@link dev.mempipe.spi.Backends} (ServiceLoader),
         * with a model from {@link DeviceModel#calibrate} measured once per process (well under a second).
         */
        public Builder cpu(Device cpu) {
            this.cpu = Objects.requireNonNull(cpu, "cpu");
            return this;
        }

        /** Adds a device backend the plan may place steps on. */
        public Builder device(Device device) {
            devices.add(Objects.requireNonNull(device, "device"));
            return this;
        }

        /** The initial plan. Default: every step on the CPU. */
        public Builder plan(Plan plan) {
            this.plan = Objects.requireNonNull(plan, "plan");
            return this;
        }

        /** The energy counter. Default: {@link EnergyMeter#rapl()}; {@link EnergyMeter#unavailable} turns it off. */
        public Builder energyMeter(EnergyMeter energy) {
            this.energy = Objects.requireNonNull(energy, "energy");
            return this;
        }

        /** The budget of {@link Engine#memoryBudget()} (default: the process-wide {@link MemoryBudget#shared()}). */
        public Builder memoryBudget(MemoryBudget budget) {
            this.memoryBudget = Objects.requireNonNull(budget, "budget");
            return this;
        }

        /** How many individual records the profile keeps (totals count all). Default 100 000. */

        public Builder maxRecords(int maxRecords) {
            if (maxRecords < 0) {
                throw new IllegalArgumentException("maxRecords must be >= 0, got " + maxRecords);
            }
            this.maxRecords = maxRecords;
            return this;
        }

        /**
         * The engine. Given neither a CPU nor a device, its devices come from {@link dev.mempipe.spi.Backends}: the
         * SIMD backend is the CPU, and when the default backend ({@code -Dmempipe.backend=NAME}, or the available
         * provider of highest priority) is another one, it is added as a device and, unless a plan was given, every
         * step is planned on it (the CPU remains the fallback).
         *
         * @throws IllegalStateException when a default is needed and the requested backend is unavailable (the
         *                               message lists every provider's reason)
         */
        public Engine build() {
            if (cpu != null) {
                return new Engine(this, cpu);
            }
            DefaultDevices.Chosen chosen = DefaultDevices.get();
            if (chosen.device() != null && devices.isEmpty()) {
                devices.add(chosen.device());
                if (plan == null) {
                    plan = Plan.allOn(chosen.device().name());
                }
            }
            return new Engine(this, chosen.cpu());
        }
    }
}
