package io.github.agnosticsam;

import io.github.agnosticsam.internal.OptimizerProgram;
import io.github.agnosticsam.spi.GradientOracle;
import io.github.agnosticsam.spi.Pass;
import io.github.agnosticsam.spi.StateSlot;
import io.github.agnosticsam.spi.StepOutput;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.spi.Tensors;
import java.util.ArrayList;
import java.util.List;

/**
 * The gradient evaluations an optimizer's step makes, and nothing else: the same passes on the
 * same batches, all at θ, with no update. A benchmark divides the step's time by this program's
 * to get the optimizer's overhead. Its summary is the pass losses and, per pass, the squared
 * norm of the gradient of parameter {@code min(1, n − 1)} (for the standard models the first
 * layer's bias: small, yet it needs the whole backward pass, so a graph engine cannot prune it).
 */
public final class BareGradients implements StepProgram {
    private final List<Pass> passes;

    private BareGradients(List<Pass> passes) {
        this.passes = List.copyOf(passes);
    }

    public static BareGradients of(Optimizer optimizer) {
        return new BareGradients(OptimizerProgram.of(optimizer).passes());
    }

    @Override
    public List<Pass> passes() {
        return passes;
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
        List<T> out = new ArrayList<>();
        List<T> used = new ArrayList<>();
        for (Pass pass : passes) {
            var r = oracle.evaluate(parameters, pass);
            out.add(r.loss());
            used.add(ops.sumOfSquares(r.gradients().get(Math.min(1, r.gradients().size() - 1))));
        }
        out.addAll(used);
        return new StepOutput<>(parameters, state, ops.concat(out));
    }
}
