package io.github.agnosticsam.algorithm;

import io.github.agnosticsam.optim.Sgd;
import io.github.agnosticsam.spi.StateSlot;
import io.github.agnosticsam.spi.Tensors;
import java.util.ArrayList;
import java.util.List;

/**
 * torch.optim.SGD (dampening 0). The momentum buffer starts at 0, so μ·0 + d gives torch's
 * "buf = d on the first step" exactly, without a branch on the step count.
 */
final class SgdRule implements BaseRule {
    private final Sgd config;

    SgdRule(Sgd config) {
        this.config = config;
    }

    @Override
    public List<StateSlot> state(List<int[]> shapes) {
        List<StateSlot> slots = new ArrayList<>();
        if (config.momentum() != 0) {
            for (int i = 0; i < shapes.size(); i++) {
                slots.add(new StateSlot("momentum." + i, shapes.get(i), 0));
            }
        }
        return slots;
    }

    @Override
    public double[] scalars(long step, long applied) {
        return new double[] {config.lr().checkedAt("lr", step)};
    }

    @Override
    public <T> Update<T> apply(Tensors<T> ops, List<T> params, List<T> grads, List<T> state, List<T> scalars) {
        T minusLr = ListOps.negate(ops, scalars.get(0));
        T mu = ops.scalar(config.momentum());
        T lambda = ops.scalar(config.weightDecay());
        List<T> newParams = new ArrayList<>(params.size());
        List<T> newState = new ArrayList<>(state.size());
        for (int i = 0; i < params.size(); i++) {
            T theta = params.get(i);
            T d = grads.get(i);
            if (config.weightDecay() != 0) {
                d = ops.axpy(lambda, theta, d);
            }
            if (config.momentum() != 0) {
                T buf = ops.axpy(mu, state.get(i), d);
                newState.add(buf);
                d = config.nesterov() ? ops.axpy(mu, buf, d) : buf;
            }
            newParams.add(ops.axpy(minusLr, d, theta));
        }
        return new Update<>(newParams, newState);
    }
}
