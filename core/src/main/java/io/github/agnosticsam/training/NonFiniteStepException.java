package io.github.agnosticsam.training;

import io.github.agnosticsam.optim.Adam;

/**
 * A step met a NaN or ±Inf loss or gradient and was not applied: parameters and optimizer state
 * are exactly as before it.
 */
public class NonFiniteStepException extends ArithmeticException {
    private static final long serialVersionUID = 1L;

    private final transient StepResult result;

    public NonFiniteStepException(StepResult result) {
        super("step " + result.step() + " not applied, parameters and optimizer state unchanged: "
                + result.skipReason().orElse("?") + " (running statistics and Adam's step count unchanged too)");
        this.result = result;
    }

    /** The step's result: its losses, gradient evaluations and reason. */
    public StepResult result() {
        return result;
    }
}
