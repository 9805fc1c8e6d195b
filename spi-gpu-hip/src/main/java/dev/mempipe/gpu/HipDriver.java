package dev.mempipe.gpu;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.stream.Stream;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * {@link GpuDriver} over the HIP runtime ({@code libamdhip64}, see {@link Hip}), bound by hand-written FFM
 * downcalls called through {@code invokeExact}: {@code hipSetDevice} (HIP's way of making a device current on
 * the calling thread), {@code hipMalloc}, {@code hipFree}, {@code hipMemcpyHtoD}/{@code DtoH}/{@code DtoD},
 * {@code hipModuleLoadData}, {@code hipModuleGetFunction}, {@code hipModuleLaunchKernel},
 * {@code hipDeviceSynchronize}, {@code hipModuleUnload}; the device from {@code hipDeviceGetName},
 * {@code hipDeviceTotalMem} and {@code hipDeviceGetAttribute}. The code object comes from hiprtc for the
 * device's {@code gfxNNN} arch ({@link #arch}).
 *
 * <p><b>Compile- and symbol-checked only</b>: no AMD GPU has run it (docs/gpu.md). Attribute numbers are
 * those of ROCm 5 and 6's {@code hipDeviceAttribute_t}.
 *
 * <p>Thread-safety: see {@link GpuDriver}; the out-parameter scratch is shared, so calls must not overlap
 * (the backend's device lock ensures it).
 */
public final class HipDriver implements GpuDriver {
    /** System property naming the device's arch ({@code gfx90a}) when the KFD topology cannot be read. */
    public static final String ARCH_PROPERTY = "mempipe.hip.arch";
    // hipDeviceAttribute_t (ROCm 5/6 hip_runtime_api.h)
    private static final int CLOCK_RATE = 5;
    private static final int COMPUTE_CAPABILITY_MAJOR = 23;
    private static final int MEMORY_BUS_WIDTH = 59;
    private static final int MEMORY_CLOCK_RATE = 60;
    private static final int COMPUTE_CAPABILITY_MINOR = 61;
    private static final int MULTIPROCESSOR_COUNT = 63;
    private static final int WARP_SIZE = 87;
    /** The functions bound here, for the symbol check. */
    static final List<String> SYMBOLS = List.of("hipInit", "hipGetDeviceCount", "hipSetDevice", "hipDeviceGetName",
            "hipDeviceTotalMem", "hipDeviceGetAttribute", "hipMalloc", "hipFree", "hipMemcpyHtoD", "hipMemcpyDtoH",
            "hipMemcpyDtoD", "hipModuleLoadData", "hipModuleGetFunction", "hipModuleLaunchKernel",
            "hipDeviceSynchronize", "hipModuleUnload", "hipGetErrorString");

    private final Arena arena = Arena.ofShared();
    private final MemorySegment scratch = arena.allocate(16, 8);
    private final int device;
    private final DeviceInfo info;
    private MemorySegment module = MemorySegment.NULL;
    private boolean closed;

    private final MethodHandle hipSetDevice;
    private final MethodHandle hipMalloc;
    private final MethodHandle hipFree;
    private final MethodHandle hipMemcpyHtoD;
    private final MethodHandle hipMemcpyDtoH;
    private final MethodHandle hipMemcpyDtoD;
    private final MethodHandle hipModuleLoadData;
    private final MethodHandle hipModuleGetFunction;
    private final MethodHandle hipModuleLaunchKernel;
    private final MethodHandle hipDeviceSynchronize;
    private final MethodHandle hipModuleUnload;
    private final MethodHandle hipGetErrorString;
    private final MethodHandle hipDeviceGetAttribute;

    private HipDriver(Hip hip, int ordinal) {
        Downcalls d = new Downcalls(hip.library(), hip.where());
        hipSetDevice = d.bind("hipSetDevice", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        hipMalloc = d.bind("hipMalloc", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        hipFree = d.bind("hipFree", FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
        hipMemcpyHtoD = d.bind("hipMemcpyHtoD", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG));
        hipMemcpyDtoH = d.bind("hipMemcpyDtoH", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
        hipMemcpyDtoD = d.bind("hipMemcpyDtoD", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG));
        hipModuleLoadData = d.bind("hipModuleLoadData", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        hipModuleGetFunction = d.bind("hipModuleGetFunction", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        hipModuleLaunchKernel = d.bind("hipModuleLaunchKernel", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        hipDeviceSynchronize = d.bind("hipDeviceSynchronize", FunctionDescriptor.of(JAVA_INT));
        hipModuleUnload = d.bind("hipModuleUnload", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        hipGetErrorString = d.bind("hipGetErrorString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        hipDeviceGetAttribute = d.bind("hipDeviceGetAttribute", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        MethodHandle getName = d.bind("hipDeviceGetName", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        MethodHandle totalMem = d.bind("hipDeviceTotalMem", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        Hip.DeviceCount count = hip.deviceCount();
        if (count.count() <= ordinal) {
            arena.close();
            throw new GpuDriverException("hipGetDeviceCount", 100, count.count() == 0 ? count.reason()
                    : "no HIP device " + ordinal + " (" + count.reason() + ")");
        }
        device = ordinal;
        try (Arena local = Arena.ofConfined()) {
            makeCurrent();
            MemorySegment name = local.allocate(256);
            check("hipDeviceGetName", (int) getName.invokeExact(name, 256, device));
            MemorySegment bytes = local.allocate(JAVA_LONG);
            check("hipDeviceTotalMem", (int) totalMem.invokeExact(bytes, device));
            info = new DeviceInfo("hip", name.getString(0), attribute(COMPUTE_CAPABILITY_MAJOR),
                    attribute(COMPUTE_CAPABILITY_MINOR), attribute(WARP_SIZE), bytes.get(JAVA_LONG, 0),
                    attribute(MULTIPROCESSOR_COUNT), attribute(CLOCK_RATE), attribute(MEMORY_CLOCK_RATE),
                    attribute(MEMORY_BUS_WIDTH), arch(ordinal, Path.of("/sys/class/kfd/kfd/topology/nodes")));
        } catch (Throwable t) {
            arena.close();
            throw Downcalls.failed("HIP start-up calls", t);
        }
    }

    /**
     * Opens HIP device {@code ordinal}.
     *
     * @throws GpuDriverException when there is no such device (the message is HIP's reason) or a call fails
     * @throws NoSuchElementException when the runtime lacks one of {@link #SYMBOLS}
     */
    public static HipDriver open(Hip hip, int ordinal) {
        return new HipDriver(hip, ordinal);
    }

    /** The {@link #SYMBOLS} {@code hip}'s runtime lacks (empty: the binding is complete for it). */
    public static List<String> missingSymbols(Hip hip) {
        Downcalls d = new Downcalls(hip.library(), hip.where());
        return SYMBOLS.stream().filter(s -> !d.has(s)).toList();
    }

    /**
     * The {@code gfxNNN} name of GPU {@code ordinal}: {@code -Dmempipe.hip.arch} when set, else from the Linux
     * KFD topology that ROCm itself reads ({@code gfx_target_version} {@code MMmmss} of the ordinal-th GPU node:
     * {@code gfx} + major + minor + stepping in hex, 90010 -> {@code gfx90a}).
     *
     * @throws IllegalStateException when neither says
     */
    static String arch(int ordinal, Path topology) {
        String property = System.getProperty(ARCH_PROPERTY);
        if (property != null && !property.isBlank()) {
            return property.strip();
        }
        List<Integer> versions = new ArrayList<>();
        try (Stream<Path> nodes = Files.list(topology)) {
            for (Path node : nodes.sorted((a, b) -> Integer.compare(nodeNumber(a), nodeNumber(b))).toList()) {
                Path properties = node.resolve("properties");
                if (!Files.isReadable(properties)) {
                    continue;
                }
                for (String line : Files.readAllLines(properties)) {
                    if (line.startsWith("gfx_target_version ")) {
                        int v = Integer.parseInt(line.substring("gfx_target_version ".length()).strip());
                        if (v != 0) { // 0: a CPU node
                            versions.add(v);
                        }
                    }
                }
            }
        } catch (IOException | NumberFormatException e) {
            throw new IllegalStateException("cannot tell HIP device " + ordinal + "'s arch: " + topology
                    + " unreadable (" + e.getMessage() + "); set -D" + ARCH_PROPERTY + "=gfx90a");
        }
        if (versions.size() <= ordinal) {
            throw new IllegalStateException("cannot tell HIP device " + ordinal + "'s arch: " + topology + " lists "
                    + versions.size() + " GPU node(s); set -D" + ARCH_PROPERTY + "=gfx90a");
        }
        return gfxName(versions.get(ordinal));
    }

    /** {@code gfx_target_version} to a compiler target: 90010 -> gfx90a, 110000 -> gfx1100. */
    static String gfxName(int version) {
        int major = version / 10000;
        int minor = version / 100 % 100;
        int stepping = version % 100;
        return "gfx" + major + minor + Integer.toHexString(stepping);
    }

    private static int nodeNumber(Path node) {
        try {
            return Integer.parseInt(node.getFileName().toString());
        } catch (NumberFormatException e) {
            return Integer.MAX_VALUE;
        }
    }

    @Override
    public DeviceInfo info() {
        return info;
    }

    @Override
    public void makeCurrent() {
        int rc;
        try {
            rc = (int) hipSetDevice.invokeExact(device);
        } catch (Throwable t) {
            throw Downcalls.failed("hipSetDevice", t);
        }
        check("hipSetDevice", rc);
    }

    @Override
    public long alloc(long bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("alloc: bytes must be >= 1, got " + bytes);
        }
        int rc;
        try {
            rc = (int) hipMalloc.invokeExact(scratch, bytes);
        } catch (Throwable t) {
            throw Downcalls.failed("hipMalloc", t);
        }
        check("hipMalloc", rc);
        return scratch.get(JAVA_LONG, 0);
    }

    @Override
    public void free(long devicePointer) {
        int rc;
        try {
            rc = (int) hipFree.invokeExact(devicePointer);
        } catch (Throwable t) {
            throw Downcalls.failed("hipFree", t);
        }
        check("hipFree", rc);
    }

    @Override
    public void copyToDevice(MemorySegment host, long devicePointer, long bytes) {
        if (bytes == 0) {
            return;
        }
        try (Arena local = Arena.ofConfined()) {
            MemorySegment src = host;
            if (!host.isNative()) { // a heap segment cannot be handed to native code: bounce
                src = local.allocate(bytes, 16);
                MemorySegment.copy(host, 0, src, 0, bytes);
            }
            check("hipMemcpyHtoD", (int) hipMemcpyHtoD.invokeExact(devicePointer, src, bytes));
        } catch (Throwable t) {
            throw Downcalls.failed("hipMemcpyHtoD", t);
        }
    }

    @Override
    public void copyFromDevice(long devicePointer, MemorySegment host, long bytes) {
        if (bytes == 0) {
            return;
        }
        try (Arena local = Arena.ofConfined()) {
            MemorySegment dst = host.isNative() ? host : local.allocate(bytes, 16);
            check("hipMemcpyDtoH", (int) hipMemcpyDtoH.invokeExact(dst, devicePointer, bytes));
            if (dst != host) {
                MemorySegment.copy(dst, 0, host, 0, bytes);
            }
        } catch (Throwable t) {
            throw Downcalls.failed("hipMemcpyDtoH", t);
        }
    }

    @Override
    public void copyOnDevice(long from, long to, long bytes) {
        if (bytes == 0) {
            return;
        }
        int rc;
        try {
            rc = (int) hipMemcpyDtoD.invokeExact(to, from, bytes);
        } catch (Throwable t) {
            throw Downcalls.failed("hipMemcpyDtoD", t);
        }
        check("hipMemcpyDtoD", rc);
    }

    @Override
    public void loadModule(byte[] image) {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment data = local.allocate(image.length + 1L, 16);
            MemorySegment.copy(image, 0, data, JAVA_BYTE, 0, image.length);
            check("hipModuleLoadData", (int) hipModuleLoadData.invokeExact(scratch, data));
            module = scratch.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw Downcalls.failed("hipModuleLoadData", t);
        }
    }

    @Override
    public long function(String name) {
        try (Arena local = Arena.ofConfined()) {
            check("hipModuleGetFunction(" + name + ")",
                    (int) hipModuleGetFunction.invokeExact(scratch, module, local.allocateFrom(name)));
            return scratch.get(ADDRESS, 0).address();
        } catch (Throwable t) {
            throw Downcalls.failed("hipModuleGetFunction", t);
        }
    }

    @Override
    public void launch(long function, int gridX, int blockX, KernelArgs args) {
        int rc;
        try {
            rc = (int) hipModuleLaunchKernel.invokeExact(function, gridX, 1, 1, blockX, 1, 1, 0, MemorySegment.NULL,
                    args.array(), MemorySegment.NULL);
        } catch (Throwable t) {
            throw Downcalls.failed("hipModuleLaunchKernel", t);
        }
        check("hipModuleLaunchKernel", rc);
    }

    @Override
    public void synchronize() {
        int rc;
        try {
            rc = (int) hipDeviceSynchronize.invokeExact();
        } catch (Throwable t) {
            throw Downcalls.failed("hipDeviceSynchronize", t);
        }
        check("hipDeviceSynchronize", rc);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            makeCurrent();
            if (!module.equals(MemorySegment.NULL)) {
                int ignored = (int) hipModuleUnload.invokeExact(module);
            }
        } catch (Throwable e) {
            // a lost device cannot release anything more; the process exit reclaims it
        } finally {
            arena.close();
        }
    }

    private String errorText(int code) {
        try {
            MemorySegment text = (MemorySegment) hipGetErrorString.invokeExact(code);
            return text.equals(MemorySegment.NULL) ? "hipError " + code : text.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "hipError " + code + " (hipGetErrorString failed: " + t + ")";
        }
    }

    private void check(String what, int rc) {
        if (rc != 0) {
            throw new GpuDriverException(what, rc, errorText(rc));
        }
    }

    private int attribute(int attribute) throws Throwable {
        int rc = (int) hipDeviceGetAttribute.invokeExact(scratch, attribute, device);
        return rc == 0 ? scratch.get(JAVA_INT, 0) : 0;
    }
}
