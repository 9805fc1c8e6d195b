package dev.mempipe.spi;

/** The loss {@link TrainOps#mlpGradient} differentiates, summed over the rows {@code i} of the batch. */
public enum MlpLoss {
    /** Titans' associative memory loss, {@code sum_i ||f(x_i) - t_i||^2}: {@code dL/dy_i = 2 (f(x_i) - t_i)}. */
    SQUARED,
    /** LaCT's fast-weight loss, {@code -sum_i <f(x_i), t_i>}: {@code dL/dy_i = -t_i}. */
    NEGATIVE_DOT
}
