package dev.mempipe.gpu;

import dev.mempipe.spi.BackendException;

import java.util.Set;

/**
 * A driver call failed: the call's name, the driver's code and its own error text. {@link #fault()} says
 * whether the device can still be used: the codes after which a CUDA context is unusable (an illegal address,
 * a failed launch, a lost device) are {@link BackendException.Fault#DEVICE_LOST}; the rest (out of memory,
 * too many resources for a launch, a bad argument) are {@link BackendException.Fault#TRANSIENT}.
 */
public final class GpuDriverException extends RuntimeException {
    // cuda.h: DEINITIALIZED 4, DEVICE_UNAVAILABLE 46, ECC_UNCORRECTABLE 214, ILLEGAL_ADDRESS 700,
    // HARDWARE_STACK_ERROR 714, ILLEGAL_INSTRUCTION 715, MISALIGNED_ADDRESS 716, INVALID_ADDRESS_SPACE 717,
    // INVALID_PC 718, LAUNCH_FAILED 719, UNKNOWN 999: the context (or the device) is gone
    private static final Set<Integer> FATAL = Set.of(4, 46, 214, 700, 714, 715, 716, 717, 718, 719, 999);

    private final String call;
    private final int code;

    public GpuDriverException(String call, int code, String text) {
        super(call + " failed: " + text + " (" + code + ")");
        this.call = call;
        this.code = code;
    }

    /** The driver function that failed, e.g. {@code cuMemAlloc_v2}. */
    public String call() {
        return call;
    }

    public int code() {
        return code;
    }

    public BackendException.Fault fault() {
        return FATAL.contains(code) ? BackendException.Fault.DEVICE_LOST : BackendException.Fault.TRANSIENT;
    }
}
