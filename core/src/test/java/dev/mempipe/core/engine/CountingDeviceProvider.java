package dev.mempipe.core.engine;

import dev.mempipe.ops.SimdBackend;
import dev.mempipe.spi.ApplyOps;
import dev.mempipe.spi.Availability;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.BackendProvider;
import dev.mempipe.spi.Capabilities;
import dev.mempipe.spi.PrepareOps;
import dev.mempipe.spi.RelevancyOps;
import dev.mempipe.spi.RetrievalOps;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A test-only backend registered through ServiceLoader from core's test resources: the SIMD ops under another
 * name, counting the op calls made on it. Its priority is far below the CPU backend's, so it is chosen only when
 * {@code -Dmempipe.backend=test-counting-device} asks for it.
 */
public final class CountingDeviceProvider implements BackendProvider {
    public static final String NAME = "test-counting-device";
    /** Op calls on every backend this provider made, in this JVM. */
    public static final AtomicLong CALLS = new AtomicLong();

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return -1000;
    }

    @Override
    public Availability availability() {
        return Availability.available("test backend");
    }

    @Override
    public Backend create() {
        SimdBackend simd = new SimdBackend();
        PrepareOps prepare = counting(PrepareOps.class, simd.prepare());
        RelevancyOps relevancy = counting(RelevancyOps.class, simd.relevancy());
        RetrievalOps retrieval = counting(RetrievalOps.class, simd.retrieval());
        ApplyOps apply = counting(ApplyOps.class, simd.apply());
        return new Backend() {
            @Override
            public String name() {
                return NAME;
            }

            @Override
            public Capabilities capabilities() {
                return simd.capabilities();
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
        };
    }

    private static <T> T counting(Class<T> family, T ops) {
        return family.cast(Proxy.newProxyInstance(family.getClassLoader(), new Class<?>[] {family},
                (self, method, args) -> {
                    CALLS.incrementAndGet();
                    try {
                        return method.invoke(ops, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                }));
    }
}
