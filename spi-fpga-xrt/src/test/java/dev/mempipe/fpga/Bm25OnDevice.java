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
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.Bm25Params;
import dev.mempipe.spi.Step;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A BM25 pipeline whose Relevancy and Retrieval steps the plan places on a device backend (so it runs the fused
 * {@code bm25TopK} there), and the same pipeline on the CPU alone: what {@link NoopEngineRun} and
 * {@link XrtLimitFallbackTest} compare.
 */
final class Bm25OnDevice {
    private Bm25OnDevice() {
    }

    /** An engine with {@code cpu} as its only device. */
    static Engine cpuOnly(Backend cpu) {
        return Engine.builder().cpu(device(cpu, 1e11, 2e10)).energyMeter(EnergyMeter.unavailable("not measured"))
                .build();
    }

    /** An engine whose plan runs Relevancy and Retrieval on {@code device}, every other step on {@code cpu}. */
    static Engine relevancyAndRetrievalOn(Backend cpu, Backend device) {
        Device host = device(cpu, 1e11, 2e10);
        Device card = device(device, 1e12, 1e11);
        WorkloadShape shape = new WorkloadShape(Arrays.stream(Step.values()).map(s -> StepShape.of(s, 0, 0))
                .toList());
        Links links = Links.builder().link(host.name(), card.name(), TransferModel.of(1e-6, 1e10)).build();
        Map<Step, String> assignment = new EnumMap<>(Step.class);
        assignment.put(Step.RELEVANCY, card.name());
        assignment.put(Step.RETRIEVAL, card.name());
        return Engine.builder().cpu(host).device(card)
                .plan(new Planner(host, List.of(card), links).evaluate(shape, assignment))
                .energyMeter(EnergyMeter.unavailable("not measured")).build();
    }

    private static Device device(Backend backend, double flops, double bytesPerSecond) {
        return new Device(backend, DeviceModel.declared(backend.name(), flops, bytesPerSecond, 1e-6));
    }

    /** The pipeline's prompt for each query over {@code documents}, top 8 sources. */
    static List<Prompt> run(Engine engine, Arena arena, int[][] documents, int[]... queries) {
        try (Bm25Memory memory = new Bm25Memory(arena, engine, documents.length, 40 * documents.length)) {
            Bm25Pipeline pipeline = new Bm25Pipeline(engine, memory, new Bm25Pipeline.Settings(Bm25Params.DEFAULT, 8,
                    4096), arena);
            pipeline.prepareTokens(documents);
            return Arrays.stream(queries).map(pipeline::step).toList();
        }
    }

    /** 120 documents of 1-30 term ids below {@code vocabulary}. */
    static int[][] documents(SplittableRandom r, int vocabulary) {
        int[][] docs = new int[120][];
        for (int d = 0; d < docs.length; d++) {
            docs[d] = new int[1 + r.nextInt(30)];
            for (int i = 0; i < docs[d].length; i++) {
                docs[d][i] = r.nextInt(vocabulary);
            }
        }
        return docs;
    }
}
