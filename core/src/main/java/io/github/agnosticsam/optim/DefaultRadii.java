package io.github.agnosticsam.optim;

/**
 * The default radii, stated once for every way of building an optimizer (the builders of
 * {@link Sam} and {@link AgnosticSam}, {@link Optimizers#named}, the command line): ρ of SAM and
 * ρ₂ of Agnostic-SAM are {@value #RHO} plain and {@value #ADAPTIVE_RHO} adaptive (ASAM's radii are
 * larger); ρ₁ is {@value #RHO1_PER_RHO2}·ρ₂, whatever ρ₂ was set to; η is {@value #ETA}.
 */
public final class DefaultRadii {
    /** ρ of SAM, and ρ₂ of Agnostic-SAM. */
    public static final double RHO = 0.05;
    /** ρ of ASAM, and ρ₂ of Agnostic-ASAM. */
    public static final double ADAPTIVE_RHO = 0.5;
    /** Agnostic-SAM's ρ₁ is this multiple of ρ₂ unless it is given. */
    public static final double RHO1_PER_RHO2 = 2;
    /** ASAM's η. */
    public static final double ETA = 0.01;

    private DefaultRadii() {
    }

    /** SAM's ρ, and Agnostic-SAM's ρ₂. */
    public static Schedule rho(boolean adaptive) {
        return Schedule.constant(adaptive ? ADAPTIVE_RHO : RHO);
    }

    /** Agnostic-SAM's ρ₁ when only ρ₂ is given (or neither). */
    public static Schedule rho1(Schedule rho2) {
        return rho2 == null ? null : rho2.times(RHO1_PER_RHO2);
    }
}
