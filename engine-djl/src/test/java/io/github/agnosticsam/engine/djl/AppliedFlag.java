package io.github.agnosticsam.engine.djl;

import io.github.agnosticsam.spi.GradientOracle;
import io.github.agnosticsam.spi.LossAndGradients;
import io.github.agnosticsam.spi.Pass;
import io.github.agnosticsam.spi.StateSlot;
import io.github.agnosticsam.spi.StepOutput;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.spi.Tensors;
import java.util.ArrayList;
import java.util.List;

/**
 * A step program that does ({@code said}) or does not say whether it applied the step, around one
 * that may or may not: the engine's running-statistics rule is tested both ways whatever the core's
 * programs do. The flag it adds is the bad-value rule's: every loss and gradient finite.
 */
final class AppliedFlag implements StepProgram {
    private final StepProgram inner;
    private final boolean said;

    private AppliedFlag(StepProgram inner, boolean said) {
        this.inner = inner;
        this.said = said;
    }

    static StepProgram said(StepProgram inner) {
        return new AppliedFlag(inner, true);
    }

    static StepProgram unsaid(StepProgram inner) {
        return new AppliedFlag(inner, false);
    }

    @Override
    public List<Pass> passes() {
        return inner.passes();
    }

    @Override
    public List<StateSlot> state(List<int[]> parameterShapes) {
        return inner.state(parameterShapes);
    }

    @Override
    public double[] scalars(long step) {
        return inner.scalars(step);
    }

    @Override
    public <T> StepOutput<T> define(Tensors<T> ops, GradientOracle<T> oracle, List<T> parameters, List<T> state,
            List<T> scalars) {
        List<T> finite = new ArrayList<>();
        GradientOracle<T> watched = (values, pass) -> {
            LossAndGradients<T> r = oracle.evaluate(values, pass);
            finite.add(ops.allFinite(r.loss()));
            r.gradients().forEach(g -> finite.add(ops.allFinite(g)));
            return r;
        };
        StepOutput<T> out = inner.define(ops, watched, parameters, state, scalars);
        if (!said) {
            return new StepOutput<>(out.parameters(), out.state(), out.summary());
        }
        if (out.applied() != null) {
            return out;
        }
        T applied = ops.scalar(1);
        for (T f : finite) {
            applied = ops.mul(applied, f);
        }
        return new StepOutput<>(out.parameters(), out.state(), out.summary(), applied);
    }
}
