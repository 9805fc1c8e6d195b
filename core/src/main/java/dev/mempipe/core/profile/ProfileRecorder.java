package dev.mempipe.core.profile;

import dev.mempipe.spi.Step;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Collects {@link StepRecord}s from any number of threads. Totals count every record; individual records
 * are kept up to a limit, so that a long decode loop cannot grow memory without bound (the report says how
 * many were not kept).
 *
 * <p>Thread-safe: {@link #add} and {@link #report} synchronize on the recorder (an add costs a map update,
 * far less than the op it records).
 */
public final class ProfileRecorder {
    private final int maxRecords;
    private final List<StepRecord> records = new ArrayList<>();
    private final Map<Step, Totals> perStep = new EnumMap<>(Step.class);
    private final Map<List<Object>, OpTotals> perOp = new LinkedHashMap<>();
    private long dropped;

    /** @param maxRecords how many individual records to keep, {@code >= 0} */
    public ProfileRecorder(int maxRecords) {
        if (maxRecords < 0) {
            throw new IllegalArgumentException("maxRecords must be >= 0, got " + maxRecords);
        }
        this.maxRecords = maxRecords;
    }

    public synchronized void add(StepRecord r) {
        if (records.size() < maxRecords) {
            records.add(r);
        } else {
            dropped++;
        }
        perStep.merge(r.step(), Totals.EMPTY.plus(r), Totals::plus);
        perOp.merge(List.of(r.step(), r.op(), r.device()),
                new OpTotals(r.step(), r.op(), r.device(), r.ridgePoint(), Totals.EMPTY.plus(r)),
                (old, one) -> new OpTotals(old.step(), old.op(), old.device(), old.ridgePoint(),
                        old.totals().plus(one.totals())));
    }

    /** Forgets everything recorded so far. */
    public synchronized void clear() {
        records.clear();
        perStep.clear();
        perOp.clear();
        dropped = 0;
    }

    /**
     * A snapshot of what was recorded.
     *
     * @param energyAvailable whether records carry measured energy
     * @param energySource    the counter, or why there is none
     */
    public synchronized ProfileReport report(boolean energyAvailable, String energySource) {
        return new ProfileReport(records, dropped, perStep, new ArrayList<>(perOp.values()), energyAvailable,
                energySource);
    }
}
