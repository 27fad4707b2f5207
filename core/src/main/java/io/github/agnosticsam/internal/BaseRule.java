package io.github.agnosticsam.internal;

import io.github.agnosticsam.spi.StateSlot;
import io.github.agnosticsam.spi.Tensors;
import java.util.List;

/** A base optimizer's update over the algebra. Its only per-step scalar input is the learning rate. */
interface BaseRule {

    List<StateSlot> state(List<int[]> parameterShapes);

    /** The learning rate at a step, checked. */
    double lr(long step);

    /** New parameters and state from one gradient; {@code lr} is a scalar tensor. */
    <T> Update<T> apply(Tensors<T> ops, List<T> params, List<T> grads, List<T> state, T lr);

    record Update<T>(List<T> params, List<T> state) {
    }
}
