package io.github.agnosticsam.conformance;

import io.github.agnosticsam.spi.GradientOracle;
import io.github.agnosticsam.spi.Pass;
import io.github.agnosticsam.spi.StateSlot;
import io.github.agnosticsam.spi.StepOutput;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.spi.Tensors;
import java.util.List;

/**
 * A step program that forwards everything to a real one: override what to change. It does not run
 * on flat storage (so an override of {@link #define} is never bypassed): an engine with flat storage
 * hands it per-tensor views. The kit's
 * wrappers ({@link Probes#sayingApplied}) and its planted bugs are made from it.
 */
class ForwardingProgram implements StepProgram {
    protected final StepProgram real;

    ForwardingProgram(StepProgram real) {
        this.real = real;
    }

    @Override
    public List<Pass> passes() {
        return real.passes();
    }

    @Override
    public List<StateSlot> state(List<int[]> parameterShapes) {
        return real.state(parameterShapes);
    }

    @Override
    public double[] scalars(long step) {
        return real.scalars(step);
    }

    @Override
    public double[] scalars(long step, long appliedSteps) {
        return real.scalars(step, appliedSteps);
    }

    @Override
    public boolean countsAppliedSteps() {
        return real.countsAppliedSteps();
    }

    @Override
    public java.util.Optional<java.util.Map<String, Object>> configuration() {
        return real.configuration();
    }

    @Override
    public boolean usesValidationBatch() {
        return real.usesValidationBatch();
    }

    @Override
    public <T> StepOutput<T> define(Tensors<T> ops, GradientOracle<T> oracle, List<T> parameters, List<T> state,
            List<T> scalars) {
        return real.define(ops, oracle, parameters, state, scalars);
    }
}
