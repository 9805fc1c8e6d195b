package dev.mempipe.fpga;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The csim device the build made (src/main/hls/build-csim.sh, run by Maven before the tests): its library, its
 * xclbin, and its test hooks. Tests that need it skip with the build's reason when it could not be built.
 */
final class Csim {
    /** Fault kinds of xrt_csim.cpp's mempipe_csim_fault. */
    static final int RUN_ERROR = 1, RUN_TIMEOUT = 2, RUN_ABORT = 3, BO_ALLOC = 4, SYNC = 5, NO_STATUS = 6;

    private Csim() {
    }

    static Path dir() {
        return Path.of(System.getProperty("mempipe.xrt.csim.dir", "target/csim"));
    }

    static Path library() {
        Path dir = dir();
        Path unavailable = dir.resolve("UNAVAILABLE");
        if (Files.exists(unavailable)) {
            String reason;
            try {
                reason = Files.readString(unavailable).trim();
            } catch (IOException e) {
                reason = "csim device not built (" + unavailable + " unreadable: " + e.getMessage() + ")";
            }
            Assumptions.abort(reason);
        }
        Path lib = dir.resolve("libmempipe_xrt_csim.so");
        Assumptions.assumeTrue(Files.isRegularFile(lib), () -> "csim device not built: " + lib + " is missing (run"
                + " the build through Maven, which runs src/main/hls/build-csim.sh before the tests)");
        return lib;
    }

    static Path xclbin() {
        return dir().resolve("mempipe-csim.xclbin");
    }

    /**
     * The backend under test: the csim device, or with {@code -Dmempipe.xrt.card=true} the provider's real device
     * (XILINX_XRT and -Dmempipe.xrt.xclbin= set; docs/fpga.md), failing with the provider's reason if there is none.
     */
    static dev.mempipe.spi.Backend backend() {
        if (Boolean.getBoolean("mempipe.xrt.card")) {
            return new XrtBackendProvider().create();
        }
        return XrtBackend.open(library(), xclbin(), "csim");
    }

    static XrtBackend csimBackend() {
        return XrtBackend.open(library(), xclbin(), "csim");
    }

    /** Makes the csim device fail the {@code after}+1-th operation of {@code kind} from now. */
    static void fault(int kind, long after) {
        MethodHandle h = XrtApi.load(library()).optional("mempipe_csim_fault",
                FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
        try {
            h.invokeExact(kind, after);
        } catch (Throwable t) {
            throw new AssertionError("mempipe_csim_fault failed", t);
        }
    }

    /** Syncs the csim device has performed (both directions), counted on its side of the C API. */
    static long syncs() {
        MethodHandle h = XrtApi.load(library()).optional("mempipe_csim_syncs", FunctionDescriptor.of(ValueLayout.JAVA_LONG));
        try {
            return (long) h.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError("mempipe_csim_syncs failed", t);
        }
    }

    /** Kernel runs the csim device has started. */
    static long runs() {
        MethodHandle h = XrtApi.load(library()).optional("mempipe_csim_runs", FunctionDescriptor.of(ValueLayout.JAVA_LONG));
        try {
            return (long) h.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError("mempipe_csim_runs failed", t);
        }
    }

    /** The csim backend with the score kernel build for {@code channels} HBM channels. */
    static XrtBackend csimBackend(int channels) {
        return XrtBackend.open(library(), xclbin(), "csim", new XrtModel(300e6, channels));
    }

    /** Empty when the kernels' C++ parameter lists agree with the interface table, else what disagrees. */
    static String topFunctionCheck() {
        MethodHandle h = XrtApi.load(library()).optional("mempipe_csim_check", FunctionDescriptor.of(ValueLayout.ADDRESS));
        try {
            MemorySegment s = (MemorySegment) h.invokeExact();
            return s.reinterpret(1 << 16).getString(0);
        } catch (Throwable t) {
            throw new AssertionError("mempipe_csim_check failed", t);
        }
    }

    static String interfaceTable() {
        MethodHandle h = XrtApi.load(library()).optional("mempipe_csim_interface",
                FunctionDescriptor.of(ValueLayout.ADDRESS));
        try {
            MemorySegment s = (MemorySegment) h.invokeExact();
            return s.reinterpret(1 << 16).getString(0);
        } catch (Throwable t) {
            throw new AssertionError("mempipe_csim_interface failed", t);
        }
    }
}
