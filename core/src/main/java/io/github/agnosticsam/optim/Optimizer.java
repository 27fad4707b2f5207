package io.github.agnosticsam.optim;

import io.github.agnosticsam.spi.Pass;
import java.util.List;


/**
 * An optimizer configuration: a base optimizer ({@link Sgd}, {@link Adam}) alone, or wrapped by
 * {@link Sam} (SAM and ASAM) or {@link AgnosticSam}. Immutable; validated when built. Run it with
 * {@code Training.start}.
 */
public sealed interface Optimizer permits BaseOptimizer, Sam, AgnosticSam {

    /**
     * The gradient evaluations of one step, in order: the base [train], SAM [train, train
     * perturbed], Agnostic-SAM EXACT [train, validation, validation perturbed, train perturbed],
     * FAST [train, validation, train perturbed], and with ρ₂ the constant 0 SAM's.
     */
    List<Pass> passes();

    /** Gradient evaluations per step: the number of {@link #passes()}. */
    default int gradientEvaluations() {
        return passes().size();
    }
}
