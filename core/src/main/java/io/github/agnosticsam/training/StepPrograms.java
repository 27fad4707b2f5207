package io.github.agnosticsam.training;

import io.github.agnosticsam.algorithm.BareGradients;
import io.github.agnosticsam.algorithm.OptimizerProgram;
import io.github.agnosticsam.optim.Optimizer;
import io.github.agnosticsam.spi.StepProgram;

/**
 * The step programs of the core's optimizers, for code that drives an engine's compiled steps
 * itself (an engine's trainer integration, a benchmark) instead of through {@link Training}.
 */
public final class StepPrograms {
    private StepPrograms() {
    }

    /** The step of an optimizer: what {@link Training#start(io.github.agnosticsam.spi.Network, Optimizer)} runs. */
    public static StepProgram of(Optimizer optimizer) {
        if (optimizer == null) {
            throw new IllegalArgumentException("optimizer must not be null");
        }
        return OptimizerProgram.of(optimizer);
    }

    /**
     * The gradient evaluations of an optimizer's step and nothing else: the same passes on the same
     * batches, no update. A benchmark divides a step's time by this program's to get the optimizer's
     * overhead.
     */
    public static StepProgram bareGradients(Optimizer optimizer) {
        if (optimizer == null) {
            throw new IllegalArgumentException("optimizer must not be null");
        }
        return BareGradients.of(optimizer);
    }
}
