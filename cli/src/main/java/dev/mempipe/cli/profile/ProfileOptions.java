package dev.mempipe.cli.profile;

import dev.mempipe.core.model.Workload;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * The parsed command line of {@code mempipe profile}.
 *
 * @param workloads      the workloads to run, in the order given, without duplicates
 * @param contextLengths context lengths in tokens ({@code 4k} = 4096), in the order given, without duplicates
 * @param model          the decode model around the pipeline
 * @param out            the report folder
 * @param backend        the {@code --backend} name, or null for the automatic choice
 * @param jsonOnly       write only {@code report.json} and print it instead of the table
 */
public record ProfileOptions(List<Workload> workloads, List<Integer> contextLengths, ModelSize model, Path out,
                             String backend, boolean jsonOnly) {

    public ProfileOptions {
        workloads = List.copyOf(workloads);
        contextLengths = List.copyOf(contextLengths);
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(out, "out");
        if (workloads.isEmpty() || contextLengths.isEmpty()) {
            throw new IllegalArgumentException("at least one workload and one context length are needed");
        }
    }

    /** How many (workload, context length) runs the options ask for: the progress display's total. */
    public int runCount() {
        return workloads.size() * contextLengths.size();
    }
}
