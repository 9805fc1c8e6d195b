package dev.mempipe.core.profile;

/**
 * Which roof of the roofline model limits an op on a device: its arithmetic intensity (FLOPs per byte)
 * against the device's ridge point (peak FLOP/s divided by memory bandwidth). A classification from a
 * model, not a measurement of stalls.
 */
public enum Bound {
    /** Intensity below the ridge point: memory bandwidth limits the op. */
    MEMORY,
    /** Intensity at or above the ridge point: arithmetic throughput limits the op. */
    COMPUTE,
    /** No work was counted (no bytes, no FLOPs), or the ridge point is unknown. */
    UNKNOWN;

    /**
     * Classifies an op of the given intensity on a device with the given ridge point.
     *
     * @param intensity  FLOPs per byte ({@link OpCost#intensity()}); NaN means no work
     * @param ridgePoint the device's FLOPs per byte at which both roofs meet; NaN or {@code <= 0} means unknown
     */
    public static Bound of(double intensity, double ridgePoint) {
        if (Double.isNaN(intensity) || Double.isNaN(ridgePoint) || ridgePoint <= 0) {
            return UNKNOWN;
        }
        return intensity >= ridgePoint ? COMPUTE : MEMORY;
    }
}
