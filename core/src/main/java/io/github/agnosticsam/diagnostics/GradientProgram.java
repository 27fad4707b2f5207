package io.github.agnosticsam.diagnostics;

import io.github.agnosticsam.spi.GradientOracle;
import io.github.agnosticsam.spi.Pass;
import io.github.agnosticsam.spi.StateSlot;
import io.github.agnosticsam.spi.StepOutput;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.spi.Tensors;
import java.util.ArrayList;
import java.util.List;

/**
 * The one step program the diagnostics run: loss and gradient at the network's current parameters
 * on the train batch (or the loss alone, for {@link Landscape}: a graph engine then prunes the backward
 * pass, and no engine copies a gradient to the host), nothing stored. Its single pass is {@link Pass#TRAIN_PERTURBED}, so BatchNorm
 * normalises with the batch's statistics and the running statistics are never moved. The summary is
 * {@code [loss, every gradient element in parameter order, each tensor row-major]} (or {@code [loss]}); the parameters
 * are returned as they came, there is no state and there are no scalar inputs. Compiled once per
 * {@link Curvature} (a graph engine keeps every program it compiles).
 */
final class GradientProgram implements StepProgram {
    private final boolean gradients;

    /** {@code gradients}: whether the summary holds the gradient after the loss. */
    GradientProgram(boolean gradients) {
        this.gradients = gradients;
    }

    @Override
    public List<Pass> passes() {
        return List.of(Pass.TRAIN_PERTURBED);
    }

    @Override
    public List<StateSlot> state(List<int[]> parameterShapes) {
        return List.of();
    }

    @Override
    public double[] scalars(long step) {
        return new double[0];
    }

    @Override
    public <T> StepOutput<T> define(Tensors<T> ops, GradientOracle<T> oracle, List<T> parameters, List<T> state,
            List<T> scalars) {
        var r = oracle.evaluate(parameters, Pass.TRAIN_PERTURBED);
        List<T> summary = new ArrayList<>(1 + r.gradients().size());
        summary.add(r.loss());
        if (gradients) {
            summary.addAll(r.gradients());
        }
        // Applied or not is the same here: the parameters come back as they were, and a perturbed
        // pass moves no running statistics.
        return new StepOutput<>(parameters, state, ops.concat(summary), ops.scalar(1));
    }
}
