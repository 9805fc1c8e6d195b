package dev.mempipe.fpga;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.profile.StepRecord;
import dev.mempipe.ops.SimdBackend;
import dev.mempipe.spi.Backend;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Child-JVM side of {@link XrtRealLibraryTest}'s engine-level check under XRT's noop device: a BM25 pipeline
 * whose Relevancy and Retrieval steps the plan places on the U55C backend (so it runs the fused {@code bm25TopK}
 * there), beside the same pipeline on the CPU alone. Writes {@code cpu <sources>}, {@code fpga <sources>} and one
 * {@code record <step> <op> <device> fallback-from=<device> <reason>} line per profiled step of the FPGA run.
 */
public final class NoopEngineRun {
    private NoopEngineRun() {
    }

    /** Arguments: libxrt_coreutil.so.2, xclbin, result file. */
    public static void main(String[] args) throws IOException {
        List<String> lines = new ArrayList<>();
        int[][] documents = Bm25OnDevice.documents(new SplittableRandom(20261207L), 40);
        int[] query = {3, 5, 8, 13};
        Backend simd = new SimdBackend();
        try (Arena arena = Arena.ofShared();
             XrtBackend fpga = XrtBackend.open(Path.of(args[0]), Path.of(args[1]), "xrt, noop")) {
            lines.add("cpu " + Bm25OnDevice.run(Bm25OnDevice.cpuOnly(simd), arena, documents, query).getFirst()
                    .sources());
            Engine engine = Bm25OnDevice.relevancyAndRetrievalOn(simd, fpga);
            lines.add("fpga " + Bm25OnDevice.run(engine, arena, documents, query).getFirst().sources());
            for (StepRecord r : engine.report().records()) {
                lines.add("record " + r.step() + " " + r.op() + " " + r.device() + " fallback-from="
                        + (r.fallback() == null ? "none" : r.fallback().fromDevice() + " " + r.fallback().reason()));
            }
            lines.add("lost " + engine.lostDevices());
        } catch (RuntimeException e) {
            lines.add("failed " + e);
        }
        Files.write(Path.of(args[2]), lines);
    }
}
