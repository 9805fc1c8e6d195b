package dev.mempipe.core.profile;

import dev.mempipe.spi.Step;

/**
 * Totals of one op label of one step on one device.
 *
 * @param ridgePoint the device's ridge point, from its model
 */
public record OpTotals(Step step, String op, String device, double ridgePoint, Totals totals) {

    /** MEMORY or COMPUTE for the summed work against the device's ridge point. */
    public Bound bound() {
        return Bound.of(totals.intensity(), ridgePoint);
    }
}
