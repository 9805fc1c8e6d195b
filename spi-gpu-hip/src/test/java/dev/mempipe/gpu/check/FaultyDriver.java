package dev.mempipe.gpu.check;

import dev.mempipe.gpu.GpuDriver;
import dev.mempipe.gpu.GpuDriverException;
import dev.mempipe.gpu.KernelArgs;

import java.lang.foreign.MemorySegment;

/**
 * A {@link GpuDriver} that forwards to a real one and, when armed, makes the next launch fail: either with an
 * injected error code (thrown as the driver would report it, nothing launched) or by launching another
 * kernel in its place (the test-only out-of-bounds kernel, which the device itself faults on). Lets the check
 * exercise the engine's fallback on a real GPU, where no fault can be ordered from the driver.
 *
 * <p>Not thread-safe, as the driver it wraps.
 */
final class FaultyDriver implements GpuDriver {
    private final GpuDriver delegate;
    private int failCode;
    private long insteadFunction;
    private KernelArgs insteadArgs;
    private int insteadGrid;
    private int insteadBlock;
    private int faultsFired;

    FaultyDriver(GpuDriver delegate) {
        this.delegate = delegate;
    }

    /** The next launch fails with {@code code} (a CUresult), as if the driver had returned it. */
    void failNextLaunch(int code) {
        failCode = code;
    }

    /** The next launch runs {@code function} with {@code args} instead of the kernel asked for. */
    void launchInsteadNext(long function, int grid, int block, KernelArgs args) {
        insteadFunction = function;
        insteadGrid = grid;
        insteadBlock = block;
        insteadArgs = args;
    }

    int faultsFired() {
        return faultsFired;
    }

    GpuDriver delegate() {
        return delegate;
    }

    @Override
    public void launch(long function, int gridX, int blockX, KernelArgs args) {
        if (failCode != 0) {
            int code = failCode;
            failCode = 0;
            faultsFired++;
            throw new GpuDriverException("cuLaunchKernel", code, "injected by the device check");
        }
        if (insteadArgs != null) {
            KernelArgs a = insteadArgs;
            insteadArgs = null;
            faultsFired++;
            delegate.launch(insteadFunction, insteadGrid, insteadBlock, a);
            return;
        }
        delegate.launch(function, gridX, blockX, args);
    }

    @Override
    public DeviceInfo info() {
        return delegate.info();
    }

    @Override
    public void makeCurrent() {
        delegate.makeCurrent();
    }

    @Override
    public long alloc(long bytes) {
        return delegate.alloc(bytes);
    }

    @Override
    public void free(long devicePointer) {
        delegate.free(devicePointer);
    }

    @Override
    public void copyToDevice(MemorySegment host, long devicePointer, long bytes) {
        delegate.copyToDevice(host, devicePointer, bytes);
    }

    @Override
    public void copyFromDevice(long devicePointer, MemorySegment host, long bytes) {
        delegate.copyFromDevice(devicePointer, host, bytes);
    }

    @Override
    public void copyOnDevice(long from, long to, long bytes) {
        delegate.copyOnDevice(from, to, bytes);
    }

    @Override
    public void loadModule(byte[] image) {
        delegate.loadModule(image);
    }

    @Override
    public long function(String name) {
        return delegate.function(name);
    }

    @Override
    public void synchronize() {
        delegate.synchronize();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
