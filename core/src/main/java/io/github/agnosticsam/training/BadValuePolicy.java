package io.github.agnosticsam.training;

/** What a step does when a loss or gradient is NaN or ±Inf. Either way the step changes nothing. */
public enum BadValuePolicy {
    /**
     * Throw a {@link NonFiniteStepException} naming the pass and parameter. Reads the step's
     * summary at the end of every step (one host synchronisation per step).
     */
    THROW,
    /** Report the step as not applied in its {@link StepResult}, and count it; keep training. */
    SKIP
}
