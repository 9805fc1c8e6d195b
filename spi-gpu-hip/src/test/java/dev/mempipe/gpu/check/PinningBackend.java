package dev.mempipe.gpu.check;

import dev.mempipe.goldentests.ForwardingBackend;
import dev.mempipe.spi.ApplyOps;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.PinnedTensor;
import dev.mempipe.spi.PrepareOps;
import dev.mempipe.spi.RelevancyOps;
import dev.mempipe.spi.RetrievalOps;
import dev.mempipe.spi.Tensor;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;

/**
 * The kit "with pins": every op pins its tensor inputs on the device first (every tensor argument but the last,
 * since outputs come last in every op's signature), runs on the pinned copies, and closes the pins. So each op of
 * the kit reads device-resident inputs, as the engine's memories make it do, instead of uploading them per call.
 * A tensor that cannot be pinned (a closed arena, in the kit's bad-input cases) goes in as it is, so the op's own
 * argument check still answers.
 *
 * <p>Thread-safety: as the delegate's; each call pins and unpins its own tensors.
 */
final class PinningBackend extends ForwardingBackend {

    PinningBackend(Backend delegate) {
        super(delegate.name(), delegate);
    }

    @Override
    public String description() {
        return delegate.description() + " (inputs pinned)";
    }

    @Override
    public PrepareOps prepare() {
        return pinning(PrepareOps.class, delegate.prepare());
    }

    @Override
    public RelevancyOps relevancy() {
        return pinning(RelevancyOps.class, delegate.relevancy());
    }

    @Override
    public RetrievalOps retrieval() {
        return pinning(RetrievalOps.class, delegate.retrieval());
    }

    @Override
    public ApplyOps apply() {
        return pinning(ApplyOps.class, delegate.apply());
    }

    private <T> T pinning(Class<T> family, T target) {
        InvocationHandler handler = (proxy, method, args) -> {
            if (method.getDeclaringClass() == Object.class || args == null) {
                return invoke(method, target, args);
            }
            int last = -1;
            for (int i = 0; i < args.length; i++) {
                if (method.getParameterTypes()[i] == Tensor.class) {
                    last = i;
                }
            }
            List<PinnedTensor> pins = new ArrayList<>();
            try {
                for (int i = 0; i < last; i++) {
                    if (args[i] instanceof Tensor t && t.isAlive() && t.pin() == null) {
                        PinnedTensor pin = pinOrNull(t);
                        if (pin != null) {
                            pins.add(pin);
                            args[i] = pin.tensor();
                        }
                    }
                }
                return invoke(method, target, args);
            } finally {
                for (PinnedTensor pin : pins) {
                    pin.close();
                }
            }
        };
        return family.cast(Proxy.newProxyInstance(family.getClassLoader(), new Class<?>[] {family}, handler));
    }

    private PinnedTensor pinOrNull(Tensor t) {
        try {
            return delegate.pin(t);
        } catch (IllegalArgumentException | IllegalStateException e) {
            return null;
        }
    }

    private static Object invoke(java.lang.reflect.Method method, Object target, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
