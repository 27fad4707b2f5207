package io.github.agnosticsam.optim;

import io.github.agnosticsam.internal.Require;
import io.github.agnosticsam.spi.Pass;
import java.util.List;

/**
 * Agnostic-SAM (Nguyen et al., arXiv 2406.07107): ascend on the train batch by ρ₁ and descend on
 * a validation batch by ρ₂, e = ρ₁·D(θ, gₜ) − ρ₂·D(θ, gᵥ), then update θ with the train gradient
 * at θ + e. EXACT takes gᵥ at θ + ρ₂·D(θ, gᵥ) (4 gradient evaluations), FAST at θ (3). A constant
 * ρ₂ of 0 leaves the validation passes out: the step is SAM with ρ = ρ₁.
 */
public record AgnosticSam(BaseOptimizer base, Schedule rho1, Schedule rho2, Variant variant, boolean adaptive,
        double eta) implements Optimizer {

    /** Where the validation gradient is taken. */
    public enum Variant {
        /** At θ + ρ₂·D(θ, gᵥ), as equation (4) of the paper. */
        EXACT,
        /** At θ: one gradient evaluation fewer. */
        FAST
    }

    public AgnosticSam {
        if (base == null) {
            throw new IllegalArgumentException("base optimizer is required");
        }
        Hyperparameters.nonNegative("rho2", rho2); // first: ρ₁ defaults to 2·ρ₂
        Hyperparameters.nonNegative("rho1", rho1);
        if (variant == null) {
            throw new IllegalArgumentException("variant must be EXACT or FAST, got null");
        }
        Require.atLeast("eta", eta, 0);
    }

    /** True when ρ₂ is the constant 0, so the step is SAM with ρ = ρ₁. */
    public boolean isPlainSam() {
        return rho2 instanceof Schedule.Constant c && c.isZero();
    }

    @Override
    public List<Pass> passes() {
        if (isPlainSam()) {
            return Sam.PASSES;
        }
        return variant == Variant.EXACT
                ? List.of(Pass.TRAIN, Pass.VALIDATION, Pass.VALIDATION_PERTURBED, Pass.TRAIN_PERTURBED)
                : List.of(Pass.TRAIN, Pass.VALIDATION, Pass.TRAIN_PERTURBED);
    }

    /**
     * Defaults: EXACT, plain, ρ₂ 0.05 (0.5 when adaptive), ρ₁ 2·ρ₂ (whatever ρ₂ is set to), η 0.01;
     * the base optimizer is required.
     */
    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder extends WrapperBuilder<Builder> {
        private Schedule rho1;
        private Schedule rho2;
        private Variant variant = Variant.EXACT;

        private Builder() {
        }

        public Builder rho1(double rho1) {
            return rho1(Schedule.constant(rho1));
        }

        public Builder rho1(Schedule rho1) {
            this.rho1 = rho1;
            return this;
        }

        public Builder rho2(double rho2) {
            return rho2(Schedule.constant(rho2));
        }

        public Builder rho2(Schedule rho2) {
            this.rho2 = rho2;
            return this;
        }

        public Builder variant(Variant variant) {
            this.variant = variant;
            return this;
        }

        public AgnosticSam build() {
            Schedule r2 = rho2 != null ? rho2 : DefaultRadii.rho(adaptive);
            return new AgnosticSam(base, rho1 != null ? rho1 : DefaultRadii.rho1(r2), r2, variant, adaptive, eta);
        }
    }
}
