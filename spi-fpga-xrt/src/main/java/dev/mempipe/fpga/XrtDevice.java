package dev.mempipe.fpga;

import dev.mempipe.spi.BackendException;
import dev.mempipe.spi.BackendException.Fault;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * One opened XRT device with the xclbin loaded and the kernels it was asked for opened (one build of the score
 * kernel and the others). Owns the device and
 * kernel handles; {@link #close()} releases them (buffers are closed by their owners first).
 *
 * <p>Every native failure becomes a {@link BackendException} naming the call and its return code: a run that
 * ends in ERROR or ABORT (or any state but COMPLETED and TIMEOUT) loses the device, a TIMEOUT, a failed
 * allocation or sync is {@link Fault#TRANSIENT}. After a lost device every call fails at once.
 *
 * <p>Thread-safety: not thread-safe; {@link XrtBackend} serializes all use.
 */
final class XrtDevice implements AutoCloseable {
    static final String BACKEND = "fpga-xrt";
    private static final long NO_FLAGS = 0;

    final XrtApi api;
    final XrtCounters counters;
    private final MemorySegment device;
    private final Map<XrtKernels, MemorySegment> kernels = new EnumMap<>(XrtKernels.class);
    private String lost;
    private boolean closed;

    private XrtDevice(XrtApi api, MemorySegment device, XrtCounters counters) {
        this.api = api;
        this.device = device;
        this.counters = counters;
    }

    /**
     * Opens device {@code index}, loads {@code xclbin} and opens {@code opened}.
     *
     * @throws BackendException (device lost) with XRT's return code when any step fails; nothing stays open
     */
    static XrtDevice open(XrtApi api, int index, Path xclbin, XrtCounters counters, List<XrtKernels> opened) {
        MemorySegment handle = callPtr(() -> (MemorySegment) api.deviceOpen.invokeExact(index), "xrtDeviceOpen");
        if (handle.equals(MemorySegment.NULL)) {
            throw new BackendException(BACKEND, Fault.DEVICE_LOST, "xrtDeviceOpen(" + index + ") returned NULL: no "
                    + "device " + index + " (library " + api.library + ")", null);
        }
        XrtDevice d = new XrtDevice(api, handle, counters);
        try (Arena arena = Arena.ofConfined()) {
            int rc = callInt(() -> (int) api.loadXclbinFile.invokeExact(handle, arena.allocateFrom(xclbin.toString())),
                    "xrtDeviceLoadXclbinFile");
            d.check(rc, "xrtDeviceLoadXclbinFile(" + xclbin + ")", Fault.DEVICE_LOST);
            MemorySegment uuid = arena.allocate(16);
            d.check(callInt(() -> (int) api.getXclbinUuid.invokeExact(handle, uuid), "xrtDeviceGetXclbinUUID"),
                    "xrtDeviceGetXclbinUUID", Fault.DEVICE_LOST);
            for (XrtKernels k : opened) {
                MemorySegment name = arena.allocateFrom(k.kernelName);
                MemorySegment kh = callPtr(() -> (MemorySegment) api.kernelOpen.invokeExact(handle, uuid, name),
                        "xrtPLKernelOpen");
                if (kh.equals(MemorySegment.NULL)) {
                    throw new BackendException(BACKEND, Fault.DEVICE_LOST, "xrtPLKernelOpen(\"" + k.kernelName
                            + "\") returned NULL: the xclbin " + xclbin + " has no kernel " + k.kernelName, null);
                }
                d.kernels.put(k, kh);
            }
            return d;
        } catch (RuntimeException e) {
            d.close();
            throw e;
        }
    }

    /** Allocates a buffer of {@code bytes} (at least 64) in the memory bank of {@code kernel}'s argument {@code arg}. */
    XrtBuffer allocate(long bytes, XrtKernels kernel, String arg) {
        checkUsable();
        int argIndex = kernel.index(arg);
        MemorySegment k = opened(kernel);
        int group = callInt(() -> (int) api.kernelArgGroupId.invokeExact(k, argIndex), "xrtKernelArgGroupId");
        if (group < 0) {
            throw new BackendException(BACKEND, Fault.DEVICE_LOST, "xrtKernelArgGroupId(" + kernel.kernelName + ", "
                    + arg + ") returned " + group + ": the xclbin does not connect that argument", null);
        }
        long size = Math.max(64, bytes);
        MemorySegment bo = callPtr(() -> (MemorySegment) api.boAlloc.invokeExact(device, size, NO_FLAGS, group),
                "xrtBOAlloc");
        if (bo.equals(MemorySegment.NULL)) {
            throw new BackendException(BACKEND, "xrtBOAlloc of " + size + " bytes in bank " + group
                    + " returned NULL (device memory exhausted or fragmented)");
        }
        return new XrtBuffer(this, bo, size);
    }

    /**
     * Runs {@code kernel} with {@code args} (an {@link XrtBuffer}, Integer, Long or Double per argument, in table
     * order) and waits for it.
     */
    void run(XrtKernels kernel, Object... args) {
        checkUsable();
        if (args.length != kernel.args.size()) {
            throw new IllegalArgumentException("kernel " + kernel.kernelName + " takes " + kernel.args.size()
                    + " arguments, got " + args.length);
        }
        MemorySegment k = opened(kernel);
        MemorySegment run = callPtr(() -> (MemorySegment) api.runOpen.invokeExact(k), "xrtRunOpen");
        if (run.equals(MemorySegment.NULL)) {
            throw new BackendException(BACKEND, "xrtRunOpen(" + kernel.kernelName + ") returned NULL");
        }
        try {
            for (int i = 0; i < args.length; i++) {
                setArg(run, kernel, i, args[i]);
            }
            long start = System.nanoTime();
            check(callInt(() -> (int) api.runStart.invokeExact(run), "xrtRunStart"), "xrtRunStart("
                    + kernel.kernelName + ")", Fault.TRANSIENT);
            int state = callInt(() -> (int) api.runWait.invokeExact(run), "xrtRunWait");
            counters.kernel(System.nanoTime() - start);
            switch (state) {
                case XrtApi.COMPLETED -> {
                }
                case XrtApi.TIMEOUT -> throw new BackendException(BACKEND, "kernel " + kernel.kernelName
                        + " timed out (ert_cmd_state TIMEOUT)");
                default -> {
                    String what = state == XrtApi.ERROR ? "ERROR" : state == XrtApi.ABORT ? "ABORT" : "state " + state;
                    lost = "kernel " + kernel.kernelName + " ended in " + what;
                    throw new BackendException(BACKEND, Fault.DEVICE_LOST, lost + " (ert_cmd_state " + state + ")",
                            null);
                }
            }
        } finally {
            int ignored = callInt(() -> (int) api.runClose.invokeExact(run), "xrtRunClose");
        }
    }

    private MemorySegment opened(XrtKernels kernel) {
        MemorySegment k = kernels.get(kernel);
        if (k == null) {
            throw new IllegalStateException("kernel " + kernel.kernelName + " was not opened on this device (opened: "
                    + kernels.keySet() + ")");
        }
        return k;
    }

    /** Fails with a device-lost {@link BackendException} once a run has lost the device. */
    void checkUsable() {
        if (closed) {
            throw new IllegalStateException("backend '" + BACKEND + "' is closed");
        }
        if (lost != null) {
            throw new BackendException(BACKEND, Fault.DEVICE_LOST, "the device was lost earlier: " + lost, null);
        }
    }

    /** Turns a non-zero return code into a {@link BackendException} of {@code fault}. */
    void check(int rc, String what, Fault fault) {
        if (rc != 0) {
            if (fault == Fault.DEVICE_LOST) {
                lost = what + " returned " + rc;
            }
            throw new BackendException(BACKEND, fault, what + " returned " + rc + errnoName(rc), null);
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (MemorySegment k : kernels.values()) {
            int ignored = callInt(() -> (int) api.kernelClose.invokeExact(k), "xrtKernelClose");
        }
        kernels.clear();
        int ignored = callInt(() -> (int) api.deviceClose.invokeExact(device), "xrtDeviceClose");
    }

    private void setArg(MemorySegment run, XrtKernels kernel, int i, Object value) {
        XrtKernels.Arg arg = kernel.args.get(i);
        int rc = switch (arg.kind()) {
            case BUFFER -> {
                MemorySegment bo = ((XrtBuffer) value).handle();
                yield callInt(() -> (int) api.runSetBuffer.invokeExact(run, i, bo), "xrtRunSetArg");
            }
            case INT -> {
                int v = (Integer) value;
                yield callInt(() -> (int) api.runSetInt.invokeExact(run, i, v), "xrtRunSetArg");
            }
            case LONG -> {
                long v = (Long) value;
                yield callInt(() -> (int) api.runSetLong.invokeExact(run, i, v), "xrtRunSetArg");
            }
            case DOUBLE -> {
                double v = (Double) value;
                yield callInt(() -> (int) api.runSetDouble.invokeExact(run, i, v), "xrtRunSetArg");
            }
        };
        check(rc, "xrtRunSetArg(" + kernel.kernelName + ", " + i + " '" + arg.name() + "')", Fault.TRANSIENT);
    }

    /** A downcall returning int; a Throwable from the linker is a bug in the binding, not a device fault. */
    static int callInt(IntCall call, String name) {
        try {
            return call.invoke();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("downcall " + name + " failed: " + t, t);
        }
    }

    /** A downcall returning a handle. */
    static MemorySegment callPtr(PtrCall call, String name) {
        try {
            return call.invoke();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("downcall " + name + " failed: " + t, t);
        }
    }

    @FunctionalInterface
    interface IntCall {
        int invoke() throws Throwable;
    }

    @FunctionalInterface
    interface PtrCall {
        MemorySegment invoke() throws Throwable;
    }

    private static String errnoName(int rc) {
        return switch (Math.abs(rc)) {
            case 2 -> " (ENOENT)";
            case 5 -> " (EIO)";
            case 12 -> " (ENOMEM)";
            case 19 -> " (ENODEV)";
            case 22 -> " (EINVAL)";
            default -> "";
        };
    }
}
