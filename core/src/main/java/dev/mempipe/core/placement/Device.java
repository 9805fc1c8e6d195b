package dev.mempipe.core.placement;

import dev.mempipe.spi.Backend;

import java.util.Objects;

/**
 * A place a step can run: a backend and the cost model of the hardware behind it.
 *
 * @param backend runs the ops
 * @param model   predicts their time; its name must be the backend's name
 */
public record Device(Backend backend, DeviceModel model) {
    public Device {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(model, "model");
        if (!backend.name().equals(model.name())) {
            throw new IllegalArgumentException("device model '" + model.name() + "' does not describe backend '"
                    + backend.name() + "'");
        }
    }

    /** A device whose model is measured now with {@link DeviceModel#calibrate} (well under a second). */
    public static Device calibrated(Backend backend) {
        return new Device(backend, DeviceModel.calibrate(backend));
    }

    /** The backend's name, which identifies the device in plans, links and profiles. */
    public String name() {
        return backend.name();
    }
}
