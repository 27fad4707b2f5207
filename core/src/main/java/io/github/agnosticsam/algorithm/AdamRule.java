package io.github.agnosticsam.algorithm;

import io.github.agnosticsam.optim.Adam;
import io.github.agnosticsam.spi.StateSlot;
import io.github.agnosticsam.spi.Tensors;
import java.util.ArrayList;
import java.util.List;

/**
 * torch.optim.Adam / AdamW (amsgrad off). State: m and v per parameter. The bias corrections
 * depend on t, the number of applied steps, and are computed in double on the host as torch
 * does, then fed with the learning rate: a float32 running product of βᵗ would drift (1.3e-5
 * relative at t = 1). Scalar inputs: [lr, lr / (1 − β₁ᵗ), √(1 − β₂ᵗ)].
 */
final class AdamRule implements BaseRule {
    private final Adam config;

    AdamRule(Adam config) {
        this.config = config;
    }

    @Override
    public List<StateSlot> state(List<int[]> shapes) {
        List<StateSlot> slots = new ArrayList<>();
        for (int i = 0; i < shapes.size(); i++) {
            slots.add(new StateSlot("exp_avg." + i, shapes.get(i), 0)); // m, named as torch names it
        }
        for (int i = 0; i < shapes.size(); i++) {
            slots.add(new StateSlot("exp_avg_sq." + i, shapes.get(i), 0)); // v
        }
        return slots;
    }

    @Override
    public double[] scalars(long step, long applied) {
        double lr = config.lr().checkedAt("lr", step);
        long t = applied + 1;
        return new double[] {lr, lr / biasCorrection(config.beta1(), t), Math.sqrt(biasCorrection(config.beta2(), t))};
    }

    @Override
    public boolean countsAppliedSteps() {
        return true;
    }

    /** 1 − βᵗ, accurate to a few ulps in double for every t ≥ 1 (no cancellation: expm1). */
    static double biasCorrection(double beta, long t) {
        return beta == 0 ? 1 : -Math.expm1(t * Math.log(beta));
    }

    @Override
    public <T> Update<T> apply(Tensors<T> ops, List<T> params, List<T> grads, List<T> state, List<T> scalars) {
        int n = params.size();
        T lr = scalars.get(0);
        T minusStepSize = ListOps.negate(ops, scalars.get(1));
        T correction2Sqrt = scalars.get(2);
        T one = ops.scalar(1);
        T beta1 = ops.scalar(config.beta1());
        T beta2 = ops.scalar(config.beta2());
        T oneMinusBeta1 = ops.scalar(1 - config.beta1());
        T oneMinusBeta2 = ops.scalar(1 - config.beta2());
        T lambda = ops.scalar(config.weightDecay());
        T eps = ops.scalar(config.epsilon());

        List<T> newParams = new ArrayList<>(n);
        List<T> ms = new ArrayList<>(n);
        List<T> vs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            T theta = params.get(i);
            T g = grads.get(i);
            if (config.weightDecay() != 0) {
                if (config.decoupledWeightDecay()) {
                    theta = ops.mul(theta, ops.sub(one, ops.mul(lr, lambda)));
                } else {
                    g = ops.axpy(lambda, theta, g);
                }
            }
            T m = ops.axpy(beta1, state.get(i), ops.mul(oneMinusBeta1, g));
            T v = ops.axpy(beta2, state.get(n + i), ops.mul(oneMinusBeta2, ops.mul(g, g)));
            T denom = ops.add(ops.div(ops.sqrt(v), correction2Sqrt), eps);
            newParams.add(ops.axpy(minusStepSize, ops.div(m, denom), theta));
            ms.add(m);
            vs.add(v);
        }
        List<T> newState = new ArrayList<>(2 * n);
        newState.addAll(ms);
        newState.addAll(vs);
        return new Update<>(newParams, newState);
    }
}
