package io.github.agnosticsam.optim;

import io.github.agnosticsam.internal.Require;

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

    @Override
    public int gradientEvaluations() {
        return 2;
    }

    /**
     * Defaults: plain (not adaptive), ρ 0.05 (0.5 when adaptive), η 0.01; the base optimizer is
     * required.
     */
    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private BaseOptimizer base;
        private Schedule rho;
        private boolean adaptive;
        private double eta = DefaultRadii.ETA;

        public Builder base(BaseOptimizer base) {
            this.base = base;
            return this;
        }

        public Builder rho(double rho) {
            return rho(Schedule.constant(rho));
        }

        public Builder rho(Schedule rho) {
            this.rho = rho;
            return this;
        }

        public Builder adaptive(boolean adaptive) {
            this.adaptive = adaptive;
            return this;
        }

        public Builder eta(double eta) {
            this.eta = eta;
            return this;
        }

        public Sam build() {
            return new Sam(base, rho != null ? rho : DefaultRadii.rho(adaptive), adaptive, eta);
        }
    }
}
