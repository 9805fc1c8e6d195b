package dev.mempipe.fpga;

import dev.mempipe.spi.BackendException;
import dev.mempipe.spi.Bm25Index;
import dev.mempipe.spi.Bm25Params;
import dev.mempipe.spi.ElementType;
import dev.mempipe.spi.Indices;
import dev.mempipe.spi.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Child-JVM side of {@link XrtRealLibraryTest}'s noop check (XRT's {@code XCL_EMULATION_MODE=noop} must be set
 * before XRT loads, hence a JVM of its own): opens the backend on the real library with the metadata-only xclbin,
 * runs each op and writes one line per op: {@code op kind message}.
 */
public final class NoopRun {
    private NoopRun() {
    }

    /** Arguments: libxrt_coreutil.so.2, xclbin, result file. */
    public static void main(String[] args) throws IOException {
        List<String> lines = new ArrayList<>();
        try (XrtBackend backend = XrtBackend.open(Path.of(args[0]), Path.of(args[1]), "xrt, noop");
             Arena arena = Arena.ofConfined()) {
            lines.add("open ok " + backend.description());
            Tensor q = Tensor.vector(arena, 1, 2, 3, 4);
            Tensor keys = Tensor.of(arena, new float[] {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0}, 3, 4);
            lines.add(outcome("dot", () -> backend.dot(q, keys, Tensor.allocate(arena, ElementType.F32, 1, 3))));
            lines.add(outcome("topK", () -> backend.topK(q, 2, Indices.allocate(arena, 2), null)));
            lines.add(outcome("groupMax", () -> backend.groupMax(q, 3, Tensor.allocate(arena, ElementType.F32, 1, 2))));
            lines.add(outcome("threshold", () -> backend.threshold(q, 2.5f, dev.mempipe.spi.Bitmap.allocate(arena, 4))));
            Bm25Index index = new Bm25Index(new int[] {2, 1}, new int[] {2, 1}, new int[] {0, 2, 3},
                    new int[] {0, 1, 0}, new int[] {1, 1, 1});
            lines.add(outcome("bm25Score", () -> backend.bm25Score(Indices.of(arena, 0, 1), index, Bm25Params.DEFAULT,
                    Tensor.allocate(arena, ElementType.F32, 1, 2))));
            Tensor pages = Tensor.of(arena, new float[] {0, 0, 0, 0, 1, 1, 1, 1}, 2, 4);
            lines.add(outcome("questBound", () -> backend.questBound(q, pages, pages,
                    Tensor.allocate(arena, ElementType.F32, 1, 2))));
            lines.add(outcome("indexerScore", () -> backend.indexerScore(q, Tensor.vector(arena, 1), keys, null,
                    Tensor.allocate(arena, ElementType.F32, 1, 3))));
            lines.add(outcome("dotTopK", () -> backend.fused().dotTopK(q, keys, 2, Indices.allocate(arena, 2), null)));
            lines.add(outcome("dotThreshold", () -> backend.fused().dotThreshold(q, keys, 0.5f,
                    dev.mempipe.spi.Bitmap.allocate(arena, 3))));
            lines.add(outcome("bm25TopK", () -> backend.fused().bm25TopK(Indices.of(arena, 0, 1), index,
                    Bm25Params.DEFAULT, 1, Indices.allocate(arena, 1), null)));
        } catch (RuntimeException e) {
            lines.add("open failed " + e);
        }
        Files.write(Path.of(args[2]), lines);
    }

    private static String outcome(String op, Runnable call) {
        try {
            call.run();
            return op + " computed";
        } catch (BackendException e) {
            return op + " " + e.fault() + " " + e.getMessage();
        } catch (RuntimeException e) {
            return op + " other " + e;
        }
    }
}
