package io.github.agnosticsam.internal;

import io.github.agnosticsam.Adam;
import io.github.agnosticsam.spi.StateSlot;
import io.github.agnosticsam.spi.Tensors;
import java.util.ArrayList;
import java.util.List;

/**
 * torch.optim.Adam / AdamW (amsgrad off). State: m and v per parameter, then β₁ᵗ and β₂ᵗ as
 * scalars starting at 1, so the bias corrections live on the device and a skipped step does not
 * advance them.
 */
final class AdamRule implements BaseRule {
    private final Adam config;

    AdamRule(Adam config) {
        this.config = config;
    }

    @Override
    public List<StateSlot> state(List<int[]> shapes) {
        List<StateSlot> slots = new ArrayList<>();
        for (int[] shape : shapes) {
            slots.add(new StateSlot(shape, 0)); // m
        }
        for (int[] shape : shapes) {
            slots.add(new StateSlot(shape, 0)); // v
        }
        slots.add(new StateSlot(new int[0], 1)); // β₁ᵗ
        slots.add(new StateSlot(new int[0], 1)); // β₂ᵗ
        return slots;
    }

    @Override
    public double lr(long step) {
        return Require.nonNegativeAt("lr", config.lr(), step);
    }

    @Override
    public <T> Update<T> apply(Tensors<T> ops, List<T> params, List<T> grads, List<T> state, T lr) {
        int n = params.size();
        T one = ops.scalar(1);
        T beta1 = ops.scalar(config.beta1());
        T beta2 = ops.scalar(config.beta2());
        T oneMinusBeta1 = ops.scalar(1 - config.beta1());
        T oneMinusBeta2 = ops.scalar(1 - config.beta2());
        T lambda = ops.scalar(config.weightDecay());
        T beta1Power = ops.mul(state.get(2 * n), beta1);
        T beta2Power = ops.mul(state.get(2 * n + 1), beta2);
        T stepSize = ops.div(lr, ops.sub(one, beta1Power));
        T correction2Sqrt = ops.sqrt(ops.sub(one, beta2Power));
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
                    g = ops.add(g, ops.mul(lambda, theta));
                }
            }
            T m = ops.add(ops.mul(beta1, state.get(i)), ops.mul(oneMinusBeta1, g));
            T v = ops.add(ops.mul(beta2, state.get(n + i)), ops.mul(oneMinusBeta2, ops.mul(g, g)));
            T denom = ops.add(ops.div(ops.sqrt(v), correction2Sqrt), eps);
            newParams.add(ops.sub(theta, ops.mul(stepSize, ops.div(m, denom))));
            ms.add(m);
            vs.add(v);
        }
        List<T> newState = new ArrayList<>(2 * n + 2);
        newState.addAll(ms);
        newState.addAll(vs);
        newState.add(beta1Power);
        newState.add(beta2Power);
        return new Update<>(newParams, newState);
    }
}
