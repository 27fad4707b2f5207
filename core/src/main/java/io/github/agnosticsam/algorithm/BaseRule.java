package io.github.agnosticsam.algorithm;

import io.github.agnosticsam.spi.StateSlot;
import io.github.agnosticsam.spi.Tensors;
import java.util.List;

/** A base optimizer's update over the algebra, with the per-step scalar inputs it needs. */
interface BaseRule {

    List<StateSlot> state(List<int[]> parameterShapes);

    /**
     * The scalar inputs of a step, checked: the learning rate first. {@code step} counts every step
     * run; {@code applied} counts the steps applied before this one.
     */
    double[] scalars(long step, long applied);

    /** Whether {@link #scalars} reads {@code applied}. */
    default boolean countsAppliedSteps() {
        return false;
    }

    /** New parameters and state from one gradient; {@code scalars} are {@link #scalars} as tensors. */
    <T> Update<T> apply(Tensors<T> ops, List<T> params, List<T> grads, List<T> state, List<T> scalars);

    record Update<T>(List<T> params, List<T> state) {
    }
}
