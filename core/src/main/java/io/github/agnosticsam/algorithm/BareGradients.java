package io.github.agnosticsam.algorithm;

import io.github.agnosticsam.optim.Optimizer;
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
 * same batches, with no update. A benchmark divides the step's time by this program's to get the
 * optimizer's overhead. Two things keep a graph engine from doing less work than the step does:
 * pass j is taken at θ + s_j, with s_j a scalar input fed as 0 (identical passes would be merged as
 * common subexpressions), and the summary holds, per pass, the loss and the sum of the squared
 * norms of all its gradients (an unused gradient would be pruned).
 */
public final class BareGradients implements StepProgram {
    private final List<Pass> passes;

    private BareGradients(List<Pass> passes) {
        this.passes = List.copyOf(passes);
    }

    public static BareGradients of(Optimizer optimizer) {
        return new BareGradients(optimizer.passes());
    }

    @Override
    public List<Pass> passes() {
        return passes;
    }

    @Override
    public List<StateSlot> state(List<int[]> parameterShapes) {
        return List.of();
    }

    /** One zero offset per pass after the first. */
    @Override
    public double[] scalars(long step) {
        return new double[passes.size() - 1];
    }

    @Override
    public boolean supportsFlatStorage() {
        return true;
    }

    /** The same passes on flat storage: each one flat gradient. */
    @Override
    public <T> StepOutput<T> defineFlat(Tensors<T> ops, GradientOracle<T> oracle, T parameters, int[] segments,
            List<T> state, List<T> scalars) {
        return define(ops, oracle, List.of(parameters), state, scalars);
    }

    @Override
    public <T> StepOutput<T> define(Tensors<T> ops, GradientOracle<T> oracle, List<T> parameters, List<T> state,
            List<T> scalars) {
        List<T> out = new ArrayList<>();
        List<T> used = new ArrayList<>();
        for (int j = 0; j < passes.size(); j++) {
            List<T> at = parameters;
            if (j > 0) {
                at = new ArrayList<>(parameters.size());
                for (T p : parameters) {
                    at.add(ops.add(p, scalars.get(j - 1)));
                }
            }
            var r = oracle.evaluate(at, passes.get(j));
            out.add(r.loss());
            T squares = null;
            for (T g : r.gradients()) {
                T s = ops.sumOfSquares(g);
                squares = squares == null ? s : ops.add(squares, s);
            }
            used.add(squares);
        }
        out.addAll(used);
        // Nothing to guard: the parameters come back as they were, and the clean pass's running
        // statistics move as a step's would (where they are finite).
        return new StepOutput<>(parameters, state, ops.concat(out), ops.scalar(1));
    }
}
