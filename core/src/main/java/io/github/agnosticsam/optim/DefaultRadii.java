package io.github.agnosticsam.optim;

/**
 * The default radii, stated once for every way of building an optimizer (the builders of
 * {@link Sam} and {@link AgnosticSam}, and {@link Optimizers#named}): ρ of SAM and ρ₂ of
 * Agnostic-SAM are 0.05 plain and 0.5 adaptive (ASAM's radii are larger); ρ₁ is 2·ρ₂, whatever
 * ρ₂ was set to; η is 0.01.
 */
final class DefaultRadii {
    static final double ETA = 0.01;

    private DefaultRadii() {
    }

    /** SAM's ρ, and Agnostic-SAM's ρ₂. */
    static Schedule rho(boolean adaptive) {
        return Schedule.constant(adaptive ? 0.5 : 0.05);
    }

    /** Agnostic-SAM's ρ₁ when only ρ₂ is given (or neither). */
    static Schedule rho1(Schedule rho2) {
        return rho2 == null ? null : rho2.times(2);
    }
}
