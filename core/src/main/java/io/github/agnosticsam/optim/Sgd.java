package io.github.agnosticsam.optim;

import io.github.agnosticsam.internal.Require;

/**
 * SGD as torch.optim.SGD with dampening 0: d = g + λθ; buf = μ·buf + d (d on the first step);
 * d = d + μ·buf with Nesterov, else buf; θ = θ − lr·d.
 */
public record Sgd(Schedule lr, double momentum, double weightDecay, boolean nesterov) implements BaseOptimizer {

    public Sgd {
        Hyperparameters.nonNegative("lr", lr);
        Require.inRange("momentum", momentum, 0, 1);
        Require.atLeast("weightDecay", weightDecay, 0);
        if (nesterov && momentum == 0) {
            throw new IllegalArgumentException("nesterov needs momentum > 0, got momentum 0.0");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Defaults: no momentum, no weight decay, no Nesterov; lr is required. */
    public static final class Builder {
        private Schedule lr;
        private double momentum;
        private double weightDecay;
        private boolean nesterov;

        public Builder lr(double lr) {
            return lr(Schedule.constant(lr));
        }

        public Builder lr(Schedule lr) {
            this.lr = lr;
            return this;
        }

        public Builder momentum(double momentum) {
            this.momentum = momentum;
            return this;
        }

        public Builder weightDecay(double weightDecay) {
            this.weightDecay = weightDecay;
            return this;
        }

        public Builder nesterov(boolean nesterov) {
            this.nesterov = nesterov;
            return this;
        }

        public Sgd build() {
            if (lr == null) {
                throw new IllegalArgumentException("lr is required");
            }
            return new Sgd(lr, momentum, weightDecay, nesterov);
        }
    }
}
