package io.github.agnosticsam.optim;

import io.github.agnosticsam.internal.Require;

/**
 * Adam and AdamW as torch.optim.Adam / AdamW (amsgrad off). With {@code decoupledWeightDecay}
 * (AdamW) the weights shrink by θ·(1 − lr·λ) before the Adam step; otherwise (Adam) λθ is added
 * to the gradient.
 */
public record Adam(Schedule lr, double beta1, double beta2, double epsilon, double weightDecay,
        boolean decoupledWeightDecay) implements BaseOptimizer {

    public Adam {
        Hyperparameters.nonNegative("lr", lr);
        Require.inRange("beta1", beta1, 0, 1);
        Require.inRange("beta2", beta2, 0, 1);
        Require.above("epsilon", epsilon, 0);
        if (epsilon < Float.MIN_NORMAL) {
            throw new IllegalArgumentException("epsilon must be at least " + Float.MIN_NORMAL + " (the smallest "
                    + "normal float32: a smaller one is lost in float32, and √v + ε can be 0), got " + epsilon);
        }
        Require.atLeast("weightDecay", weightDecay, 0);
    }

    /** Adam: β₁ 0.9, β₂ 0.999, ε 1e-8, weight decay 0; lr is required. */
    public static Builder builder() {
        return new Builder(false, 0);
    }

    /** AdamW: β₁ 0.9, β₂ 0.999, ε 1e-8, decoupled weight decay 0.01; lr is required. */
    public static Builder adamW() {
        return new Builder(true, 0.01);
    }

    @Override
    public String toString() {
        return (decoupledWeightDecay ? "AdamW" : "Adam") + "[lr=" + lr + ", beta1=" + beta1 + ", beta2=" + beta2
                + ", epsilon=" + epsilon + ", weightDecay=" + weightDecay + "]";
    }

    public static final class Builder {
        private final boolean decoupled;
        private Schedule lr;
        private double beta1 = 0.9;
        private double beta2 = 0.999;
        private double epsilon = 1e-8;
        private double weightDecay;

        private Builder(boolean decoupled, double weightDecay) {
            this.decoupled = decoupled;
            this.weightDecay = weightDecay;
        }

        public Builder lr(double lr) {
            return lr(Schedule.constant(lr));
        }

        public Builder lr(Schedule lr) {
            this.lr = lr;
            return this;
        }

        public Builder beta1(double beta1) {
            this.beta1 = beta1;
            return this;
        }

        public Builder beta2(double beta2) {
            this.beta2 = beta2;
            return this;
        }

        public Builder epsilon(double epsilon) {
            this.epsilon = epsilon;
            return this;
        }

        public Builder weightDecay(double weightDecay) {
            this.weightDecay = weightDecay;
            return this;
        }

        public Adam build() {
            if (lr == null) {
                throw new IllegalArgumentException("lr is required");
            }
            return new Adam(lr, beta1, beta2, epsilon, weightDecay, decoupled);
        }
    }
}
