package dev.mempipe.core.placement;

import dev.mempipe.spi.ApplyOps;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.BackendException;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.PrepareOps;
import dev.mempipe.spi.RelevancyOps;
import dev.mempipe.spi.RetrievalOps;
import dev.mempipe.spi.TrainOps;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A pretend device for planner and engine tests: it declares the capabilities it is given and runs every
 * declared op on a delegate (the scalar oracle or the SIMD backend), or, when broken, fails every op with a
 * {@link BackendException} as a faulting device would. Undeclared ops throw
 * {@link UnsupportedOperationException}, as the SPI requires.
 */
public final class FakeBackend implements Backend {
    private final String name;
    private final Backend delegate;
    private final Capabilities capabilities;
    private final boolean broken;
    private final AtomicInteger calls = new AtomicInteger();
    /** The call (1-based) that fails, 0 for none; with {@link #failure} and {@link #garbageFirst}. */
    private volatile int failAtCall;
    private volatile BackendException.Fault failure = BackendException.Fault.TRANSIENT;
    private volatile boolean garbageFirst;
    private final ThreadLocal<long[]> moved = ThreadLocal.withInitial(() -> new long[2]);
    private final PrepareOps prepare;
    private final RelevancyOps relevancy;
    private final RetrievalOps retrieval;
    private final ApplyOps apply;
    private final TrainOps train;

    private FakeBackend(String name, Backend delegate, Capabilities capabilities, boolean broken) {
        this.name = name;
        this.delegate = delegate;
        this.capabilities = capabilities;
        this.broken = broken;
        this.prepare = proxy(PrepareOps.class, delegate.prepare());
        this.relevancy = proxy(RelevancyOps.class, delegate.relevancy());
        this.retrieval = proxy(RetrievalOps.class, delegate.retrieval());
        this.apply = proxy(ApplyOps.class, delegate.apply());
        this.train = proxy(TrainOps.class, delegate.train());
    }

    /** A device that runs the declared ops correctly (on {@code delegate}). */
    public static FakeBackend working(String name, Backend delegate, Capabilities capabilities) {
        return new FakeBackend(name, delegate, capabilities, false);
    }

    /** A device that declares every op and fails every call with a {@link BackendException}. */
    public static FakeBackend broken(String name, Backend delegate) {
        return new FakeBackend(name, delegate, Capabilities.all(), true);
    }

    /**
     * Makes call number {@code n} (counted from now, 1-based) fail with a {@link BackendException} of
     * {@code fault}; with {@code garbageFirst} the op first runs and then overwrites its output with NaN, as a
     * device that dies after writing half a result would.
     */
    public FakeBackend failOnCall(int n, BackendException.Fault fault, boolean garbageFirst) {
        this.failAtCall = calls.get() + n;
        this.failure = fault;
        this.garbageFirst = garbageFirst;
        return this;
    }

    private volatile dev.mempipe.spi.DeviceDescription description;

    /** This device, describing its hardware as given. */
    public FakeBackend describedAs(dev.mempipe.spi.DeviceDescription description) {
        this.description = description;
        return this;
    }

    @Override
    public dev.mempipe.spi.DeviceDescription deviceDescription() {
        return description != null ? description : dev.mempipe.spi.DeviceDescription.unknown(name);
    }

    @Override
    public dev.mempipe.spi.DeviceCounters counters() {
        long[] m = moved.get();
        return new dev.mempipe.spi.DeviceCounters(m[0], m[1], 0, 0, Double.NaN);
    }

    /** How many op calls reached this device (failed ones included). */
    public int calls() {
        return calls.get();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Capabilities capabilities() {
        return capabilities;
    }

    @Override
    public PrepareOps prepare() {
        return prepare;
    }

    @Override
    public RelevancyOps relevancy() {
        return relevancy;
    }

    @Override
    public RetrievalOps retrieval() {
        return retrieval;
    }

    @Override
    public ApplyOps apply() {
        return apply;
    }

    @Override
    public TrainOps train() {
        return train;
    }

    private <T> T proxy(Class<T> type, T target) {
        Object p = Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (self, method, args) -> {
            if (method.getDeclaringClass() == Object.class) {
                return method.getName().equals("toString") ? name + "." + type.getSimpleName()
                        : method.getName().equals("hashCode") ? System.identityHashCode(self) : self == args[0];
            }
            int call = calls.incrementAndGet();
            Op op = opOf(method);
            if (broken) {
                throw new BackendException(name, "simulated device fault in " + op);
            }
            if (!capabilities.supports(op)) {
                throw new UnsupportedOperationException(name + " does not run " + op);
            }
            count(args);
            boolean fails = call == failAtCall;
            if (fails && !garbageFirst) {
                throw new BackendException(name, failure, "simulated fault on call " + call + " (" + op + ")", null);
            }
            Object result;
            try {
                result = method.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
            if (fails) {
                scribble(op, args);
                throw new BackendException(name, failure, "simulated fault on call " + call + " (" + op
                        + ") after writing garbage", null);
            }
            return result;
        });
        return type.cast(p);
    }

    /** As if every tensor argument were uploaded and the last one (the output) downloaded. */
    private void count(Object[] args) {
        long[] m = moved.get();
        dev.mempipe.spi.Tensor last = null;
        for (Object a : args == null ? new Object[0] : args) {
            if (a instanceof dev.mempipe.spi.Tensor t) {
                m[0] += t.data().byteSize();
                last = t;
            }
        }
        if (last != null) {
            m[0] -= last.data().byteSize();
            m[1] += last.data().byteSize();
        }
    }

    /** NaN over the op's output: its last tensor argument when it has several (a top-k's val), and a top-k's indices. */
    private static void scribble(Op op, Object[] args) {
        long tensors = java.util.Arrays.stream(args).filter(a -> a instanceof dev.mempipe.spi.Tensor).count();
        for (int i = args.length - 1; i >= 0 && (tensors > 1 || op == Op.TOP_K && i == 3); i--) {
            if (args[i] instanceof dev.mempipe.spi.Tensor t) {
                for (long r = 0; r < t.rows(); r++) {
                    for (int c = 0; c < t.cols(); c++) {
                        if (t.type().isFloat()) {
                            t.set(r, c, Float.NaN);
                        }
                    }
                }
                break;
            }
        }
        if (op == Op.TOP_K && args[2] instanceof dev.mempipe.spi.Indices idx) {
            for (int i = 0; i < idx.length(); i++) {
                idx.set(i, -7);
            }
        }
    }

    private static Op opOf(Method method) {
        // pageMinMaxAppend is the incremental form of pageMinMax and shares its capability.
        return method.getName().equals("pageMinMaxAppend") ? Op.PAGE_MIN_MAX : Op.byContractName(method.getName());
    }

    @Override
    public String toString() {
        return name + (broken ? " (broken)" : "") + " over " + delegate.name();
    }
}
