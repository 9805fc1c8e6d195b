package dev.mempipe.fpga;

import dev.mempipe.core.engine.Engine;
import dev.mempipe.core.memory.Bm25Memory;
import dev.mempipe.core.pipeline.Bm25Pipeline;
import dev.mempipe.core.pipeline.Prompt;
import dev.mempipe.core.placement.Device;
import dev.mempipe.core.placement.DeviceModel;
import dev.mempipe.core.placement.Links;
import dev.mempipe.core.placement.Planner;
import dev.mempipe.core.placement.StepShape;
import dev.mempipe.core.placement.TransferModel;
import dev.mempipe.core.placement.WorkloadShape;
import dev.mempipe.core.profile.EnergyMeter;
import dev.mempipe.core.profile.StepRecord;
import dev.mempipe.ops.SimdBackend;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Step;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
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
        int[][] documents = documents(new SplittableRandom(20261207L));
        int[] query = {3, 5, 8, 13};
        Backend simd = new SimdBackend();
        try (Arena arena = Arena.ofShared();
             XrtBackend fpga = XrtBackend.open(Path.of(args[0]), Path.of(args[1]), "xrt, noop")) {
            Device cpu = new Device(simd, DeviceModel.declared(simd.name(), 1e11, 2e10, 1e-6));
            Engine cpuOnly = Engine.builder().cpu(cpu).energyMeter(EnergyMeter.unavailable("not measured")).build();
            lines.add("cpu " + run(cpuOnly, arena, documents, query).sources());

            Device device = new Device(fpga, DeviceModel.declared(fpga.name(), 1e12, 1e11, 1e-6));
            WorkloadShape shape = new WorkloadShape(Arrays.stream(Step.values()).map(s -> StepShape.of(s, 0, 0))
                    .toList());
            Links links = Links.builder().link(cpu.name(), device.name(), TransferModel.of(1e-6, 1e10)).build();
            Map<Step, String> assignment = new EnumMap<>(Step.class);
            assignment.put(Step.RELEVANCY, device.name());
            assignment.put(Step.RETRIEVAL, device.name());
            Engine engine = Engine.builder().cpu(cpu).device(device)
                    .plan(new Planner(cpu, List.of(device), links).evaluate(shape, assignment))
                    .energyMeter(EnergyMeter.unavailable("not measured")).build();
            lines.add("fpga " + run(engine, arena, documents, query).sources());
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

    private static Prompt run(Engine engine, Arena arena, int[][] documents, int[] query) {
        try (Bm25Memory memory = new Bm25Memory(arena, engine, documents.length,
                40 * documents.length)) {
            Bm25Pipeline pipeline = new Bm25Pipeline(engine, memory, new Bm25Pipeline.Settings(
                    dev.mempipe.spi.Bm25Params.DEFAULT, 8, 4096), arena);
            pipeline.prepareTokens(documents);
            return pipeline.step(query);
        }
    }

    private static int[][] documents(SplittableRandom r) {
        int[][] docs = new int[120][];
        for (int d = 0; d < docs.length; d++) {
            docs[d] = new int[1 + r.nextInt(30)];
            for (int i = 0; i < docs[d].length; i++) {
                docs[d][i] = r.nextInt(40);
            }
        }
        return docs;
    }
}
