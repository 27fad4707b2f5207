package io.github.agnosticsam.optim;

import io.github.agnosticsam.internal.Require;
import io.github.agnosticsam.spi.Pass;
import java.util.List;

/**
 * SAM (Foret et al. 2021), and ASAM when {@code adaptive}: ascend by ρ·D(θ, g) on the batch,
 * take the gradient there, and let the base optimizer update θ with it.
 */
public record Sam(BaseOptimizer base, Schedule rho, boolean adaptive, double eta) implements Optimizer {

    public Sam {
        if (base == null) {
            throw new IllegalArgumentException("base optimizer is required");
        }
        Hyperparameters.nonNegative("rho", rho);
        Require.atLeast("eta", eta, 0);
    }

    /** The passes of SAM's step (and of Agnostic-SAM's when ρ₂ is the constant 0). */
    static final List<Pass> PASSES = List.of(Pass.TRAIN, Pass.TRAIN_PERTURBED);

    @Override
    public List<Pass> passes() {
        return PASSES;
    }

    /**
     * Defaults: plain (not adaptive), ρ 0.05 (0.5 when adaptive), η 0.01; the base optimizer is
     * required.
     */
    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder extends WrapperBuilder<Builder> {
        private Schedule rho;

        private Builder() {
        }

        public Builder rho(double rho) {
            return rho(Schedule.constant(rho));
        }

        public Builder rho(Schedule rho) {
            this.rho = rho;
            return this;
        }

        public Sam build() {
            return new Sam(base, rho != null ? rho : DefaultRadii.rho(adaptive), adaptive, eta);
        }
    }
}
