package dev.mempipe.cli.plan;

import dev.mempipe.cli.Args;
import dev.mempipe.cli.CliException;
import dev.mempipe.cli.Command;
import dev.mempipe.core.placement.DeviceModel;
import dev.mempipe.core.placement.Plan;
import dev.mempipe.core.profile.Units;
import dev.mempipe.core.whatif.DecodeStep;
import dev.mempipe.core.whatif.DecodeWorkloads;
import dev.mempipe.core.whatif.DeviceSheet;
import dev.mempipe.core.whatif.DeviceSheets;
import dev.mempipe.core.whatif.WhatIf;
import dev.mempipe.spi.Backend;
import dev.mempipe.spi.BackendProvider;
import dev.mempipe.spi.Backends;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * {@code mempipe plan}: the what-if comparison of a GPU alone against the GPU with an Alveo U55C beside it, from
 * device descriptions (data-sheet models; calibrated devices present with {@code --calibrate}). Per workload,
 * context length and GPU: the planner's placement of the memory pipeline's steps, the predicted decode-step
 * time and energy of both, and the bytes each link carries. Everything it prints is a model.
 */
public final class PlanCommand implements Command {
    private static final Args.Spec SPEC = new Args.Spec().value("--workload").value("--context").value("--gpu")
            .value("--fpga-channels").value("--fpga-clock-mhz").value("--gpu-topk-passes")
            .value("--gpu-bm25-efficiency").flag("--calibrate");
    /** Long enough for the JIT to compile the Vector API kernels a calibration times, on a busy machine too. */
    private static final java.time.Duration CALIBRATION = java.time.Duration.ofSeconds(3);
    /** The published comparison (1 MI210 + 1 U55C) the output is set beside. */
    static final String PUBLISHED = "published (1 MI210 + 1 U55C, measured): 1.04-2.2x faster, 1.11-4.7x less energy";

    @Override
    public String name() {
        return "plan";
    }

    @Override
    public String summary() {
        return "what-if placement: predicted decode-step time and energy of GPU + U55C against the GPU alone (a model)";
    }

    @Override
    public String help() {
        return """
                usage: mempipe plan [--workload quest,dsa,bm25] [--context N,N,...] [--gpu mi210,a100,h100]
                                    [--fpga-channels 8|16|32] [--fpga-clock-mhz MHZ] [--gpu-topk-passes P]
                                    [--gpu-bm25-efficiency E] [--calibrate]

                The what-if comparison behind the published GPU+FPGA result, as a model: for each workload, context
                length and GPU, the planner places the memory pipeline's steps (Prepare, Relevancy, Retrieval,
                Apply) on the GPU or on an Alveo U55C reached over a 7 GB/s peer-to-peer link, and prints the
                predicted decode-step time and energy of the pair against the GPU alone, with the bytes each link
                carries. The model's other work for the token (its weights) runs on the GPU in both. Device
                descriptions are printed first: GPU data-sheet roofs and board power, the U55C as the fpga-xrt
                backend models it, two stated assumptions about GPU top-k and BM25; every figure is labelled.
                Nothing is measured (docs/fpga.md compares the result with the published numbers).

                options:
                  --workload LIST       quest, dsa, bm25 (default: all)
                  --context LIST        context lengths in tokens; for bm25 the corpus's passages of 256 tokens
                                        (default 32768,131072,1048576)
                  --gpu LIST            mi210, a100, h100 (default: all)
                  --fpga-channels C     HBM channels of the U55C's score kernel: 8, 16 or 32 (default 8)
                  --fpga-clock-mhz MHZ  kernel clock (default 300)
                  --gpu-topk-passes P   assumed: times a GPU top-k reads the scores (default 4)
                  --gpu-bm25-efficiency E  assumed: share of peak bandwidth a GPU's BM25 reaches, in (0, 1]
                                        (default 0.1)
                  --calibrate           also compare with each device present (the CPU and any available device
                                        backend), calibrated by short runs (about 3 s each; energy unknown)

                output: the device descriptions, then per workload a table: context, GPU, the planner's placement
                (the device of each step), predicted time of the pair and of the GPU alone and the speed-up, energy
                of both and the reduction; the published split's time, speed-up and energy reduction against the
                GPU alone; the bytes per link of the planner's placement.

                example:
                  mempipe plan --workload bm25,dsa --context 131072 --gpu mi210
                """;
    }

    @Override
    public int run(List<String> tokens, PrintStream out, PrintStream err) throws CliException {
        Args args = Args.parse("mempipe plan", SPEC, tokens);
        if (!args.positionals().isEmpty()) {
            throw CliException.usage("unexpected argument " + args.positionals().getFirst() + " (see mempipe plan --help)");
        }
        List<String> workloads = list(args.value("--workload", String.join(",", DecodeWorkloads.NAMES)));
        for (String w : workloads) {
            if (!DecodeWorkloads.NAMES.contains(w)) {
                throw CliException.usage("--workload: unknown workload '" + w + "'; workloads: " + DecodeWorkloads.NAMES);
            }
        }
        List<Long> contexts = new ArrayList<>();
        for (String c : list(args.value("--context", "32768,131072,1048576"))) {
            contexts.add(positive("--context", c));
        }
        double passes = positiveReal("--gpu-topk-passes", args.value("--gpu-topk-passes",
                Double.toString(DeviceSheets.GpuAssumptions.DEFAULT.topKPasses())));
        double efficiency = positiveReal("--gpu-bm25-efficiency", args.value("--gpu-bm25-efficiency",
                Double.toString(DeviceSheets.GpuAssumptions.DEFAULT.bm25Efficiency())));
        DeviceSheets.GpuAssumptions assumed;
        try {
            assumed = new DeviceSheets.GpuAssumptions(passes, efficiency);
        } catch (IllegalArgumentException e) {
            throw CliException.usage("--gpu-topk-passes / --gpu-bm25-efficiency: " + e.getMessage());
        }
        List<DeviceSheet> gpus = new ArrayList<>();
        for (String g : list(args.value("--gpu", "mi210,a100,h100"))) {
            if (!List.of("mi210", "a100", "h100").contains(g)) {
                throw CliException.usage("--gpu: unknown GPU '" + g + "'; GPUs: mi210, a100, h100");
            }
            gpus.add(DeviceSheets.gpu(g, assumed));
        }
        long channels = positive("--fpga-channels", args.value("--fpga-channels", "8"));
        if (channels != 8 && channels != 16 && channels != 32) {
            throw CliException.usage("--fpga-channels must be 8, 16 or 32 (the score kernel's builds), got " + channels);
        }
        double clockMhz = positiveReal("--fpga-clock-mhz", args.value("--fpga-clock-mhz", "300"));
        DeviceSheet fpga = DeviceSheets.u55c(clockMhz * 1e6, (int) channels);
        if (args.flag("--calibrate")) {
            gpus.addAll(calibrated(err));
        }

        out.println("Device descriptions (every figure labelled: model = data sheet or stated assumption, measured ="
                + " calibrated here)");
        for (DeviceSheet g : gpus) {
            out.print(g.describe());
        }
        out.print(fpga.describe());
        out.printf(Locale.ROOT, "  link to the GPU %10.4g B/s  model: FPGA-GPU peer-to-peer, from the published demo%n",
                DeviceSheets.P2P_BYTES_PER_SECOND);
        for (String workload : workloads) {
            out.println();
            out.println("workload " + workload + ": " + DecodeWorkloads.of(workload, contexts.getFirst()).what());
            out.printf(Locale.ROOT, "%-9s %-15s %-32s %10s %10s %7s %9s %9s %6s | %10s %7s %6s | %s%n", "context",
                    "GPU", "planner's placement", "pair", "GPU alone", "speedup", "pair J", "GPU J", "energy",
                    "R+Rt FPGA", "speedup", "energy", "bytes per link (planner's placement)");
            for (long context : contexts) {
                DecodeStep step = DecodeWorkloads.of(workload, context);
                for (DeviceSheet gpu : gpus) {
                    WhatIf.Comparison c = WhatIf.compare(gpu, fpga, step);
                    WhatIf.Outcome off = c.offload();
                    out.printf(Locale.ROOT, "%-9d %-15s %-32s %10s %10s %6.2fx %9s %9s %6s | %10s %7s %6s | %s%n",
                            context, gpu.name().replace(" (model)", ""), placement(c.pair().plan(), fpga),
                            Units.seconds(c.pair().seconds()), Units.seconds(c.alone().seconds()), c.speedup(),
                            joules(c.pair().joules()), joules(c.alone().joules()), ratio(c.energyReduction()),
                            off == null ? "n/a" : Units.seconds(off.seconds()),
                            off == null ? "n/a" : ratio(c.alone().seconds() / off.seconds()),
                            off == null ? "n/a" : ratio(c.alone().joules() / off.joules()), links(c.bytesPerLink()));
                }
            }
        }
        out.println();
        out.println(PUBLISHED + "; set the MI210 rows beside it (docs/fpga.md says where the model agrees and"
                + " where it differs). All figures above are predictions of a serial roofline model.");
        return 0;
    }

    private static List<DeviceSheet> calibrated(PrintStream err) {
        List<DeviceSheet> sheets = new ArrayList<>();
        for (BackendProvider p : Backends.providers()) {
            if (!p.availability().available()) {
                err.println("mempipe plan: " + p.name() + " not present: " + p.availability().reason());
                continue;
            }
            err.println("mempipe plan: calibrating " + p.name() + " (about " + CALIBRATION.toSeconds() + " s) ...");
            try (Backend b = p.create()) {
                sheets.add(DeviceSheet.calibrated(b, DeviceModel.calibrate(b, CALIBRATION)));
            } catch (RuntimeException e) {
                err.println("mempipe plan: " + p.name() + " could not be calibrated: " + e.getMessage());
            }
        }
        return sheets;
    }

    /** The device of each step, GPU or FPGA. */
    private static String placement(Plan plan, DeviceSheet fpga) {
        return plan.placements().stream().map(p -> p.step().name().charAt(0) + p.step().name().substring(1, 3)
                .toLowerCase(Locale.ROOT) + "=" + (p.device().equals(fpga.name()) ? "FPGA" : "GPU"))
                .collect(Collectors.joining(" "));
    }

    private static String links(Map<String, Long> bytes) {
        if (bytes.isEmpty()) {
            return "none";
        }
        return bytes.entrySet().stream().map(e -> e.getKey().replace(" (model)", "").replace(
                "Alveo U55C (model, ", "U55C (") + " " + Units.bytes(e.getValue())).collect(Collectors.joining(", "));
    }

    private static String joules(double j) {
        return Double.isNaN(j) ? "n/a" : String.format(Locale.ROOT, "%.3g J", j);
    }

    private static String ratio(double r) {
        return Double.isNaN(r) ? "n/a" : String.format(Locale.ROOT, "%.2fx", r);
    }

    private static List<String> list(String value) {
        return java.util.Arrays.stream(value.split(",")).map(String::trim).map(s -> s.toLowerCase(Locale.ROOT))
                .filter(s -> !s.isEmpty()).toList();
    }

    private static long positive(String option, String value) throws CliException {
        try {
            long v = Long.parseLong(value.trim());
            if (v >= 1) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw CliException.usage(option + " must be a whole number >= 1, got '" + value + "'");
    }

    private static double positiveReal(String option, String value) throws CliException {
        try {
            double v = Double.parseDouble(value.trim());
            if (v > 0 && Double.isFinite(v)) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw CliException.usage(option + " must be a number > 0, got '" + value + "'");
    }
}
