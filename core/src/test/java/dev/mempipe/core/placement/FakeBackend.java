package dev.mempipe.core.placement;

import dev.mempipe.spi.ApplyOps;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.BackendException;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.Op;
import dev.mempipe.spi.PrepareOps;
import dev.mempipe.spi.RelevancyOps;
import dev.mempipe.spi.RetrievalOps;

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
    private final PrepareOps prepare;
    private final RelevancyOps relevancy;
    private final RetrievalOps retrieval;
    private final ApplyOps apply;

    private FakeBackend(String name, Backend delegate, Capabilities capabilities, boolean broken) {
        this.name = name;
        this.delegate = delegate;
        this.capabilities = capabilities;
        this.broken = broken;
        this.prepare = proxy(PrepareOps.class, delegate.prepare());
        this.relevancy = proxy(RelevancyOps.class, delegate.relevancy());
        this.retrieval = proxy(RetrievalOps.class, delegate.retrieval());
        this.apply = proxy(ApplyOps.class, delegate.apply());
    }

    /** A device that runs the declared ops correctly (on {@code delegate}). */
    public static FakeBackend working(String name, Backend delegate, Capabilities capabilities) {
        return new FakeBackend(name, delegate, capabilities, false);
    }

    /** A device that declares every op and fails every call with a {@link BackendException}. */
    public static FakeBackend broken(String name, Backend delegate) {
        return new FakeBackend(name, delegate, Capabilities.all(), true);
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

    private <T> T proxy(Class<T> type, T target) {
        Object p = Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (self, method, args) -> {
            if (method.getDeclaringClass() == Object.class) {
                return method.getName().equals("toString") ? name + "." + type.getSimpleName()
                        : method.getName().equals("hashCode") ? System.identityHashCode(self) : self == args[0];
            }
            calls.incrementAndGet();
            Op op = opOf(method);
            if (broken) {
                throw new BackendException(name, "simulated device fault in " + op);
            }
            if (!capabilities.supports(op)) {
                throw new UnsupportedOperationException(name + " does not run " + op);
            }
            try {
                return method.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        });
        return type.cast(p);
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
