package io.github.agnosticsam.optim;


/**
 * An optimizer configuration: a base optimizer ({@link Sgd}, {@link Adam}) alone, or wrapped by
 * {@link Sam} (SAM and ASAM) or {@link AgnosticSam}. Immutable; validated when built. Run it with
 * {@code Training.start}.
 */
public sealed interface Optimizer permits BaseOptimizer, Sam, AgnosticSam {

    /** Gradient evaluations per step (base 1, SAM 2, Agnostic-SAM FAST 3, EXACT 4, ρ₂ = 0 2). */
    int gradientEvaluations();
}
