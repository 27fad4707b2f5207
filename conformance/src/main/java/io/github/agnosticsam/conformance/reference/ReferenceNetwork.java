package io.github.agnosticsam.conformance.reference;

import io.github.agnosticsam.Batch;
import io.github.agnosticsam.Evaluation;
import io.github.agnosticsam.HostTensor;
import io.github.agnosticsam.ModelSpec;
import io.github.agnosticsam.Network;
import io.github.agnosticsam.spi.CompiledStep;
import io.github.agnosticsam.spi.GradientOracle;
import io.github.agnosticsam.spi.StateSlot;
import io.github.agnosticsam.spi.StepOutput;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.spi.StepSummary;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The conformance MLP on the reference engine. Step programs run eagerly, op by op. */
final class ReferenceNetwork implements Network {
    private static final HostAlgebra OPS = new HostAlgebra();

    private final ModelSpec.Mlp spec;
    private final MlpMath math;
    private List<HostTensor> params;

    ReferenceNetwork(ModelSpec.Mlp spec, List<HostTensor> initial) {
        this.spec = spec;
        this.math = new MlpMath(spec);
        setParameters(initial);
    }

    @Override
    public ModelSpec model() {
        return spec;
    }

    @Override
    public List<HostTensor> parameters() {
        return MlpMath.copies(params);
    }

    @Override
    public void setParameters(List<HostTensor> values) {
        spec.checkParameters(values);
        this.params = MlpMath.copies(values);
    }

    @Override
    public Evaluation evaluate(Batch batch) {
        batch.checkFits(spec, "evaluation");
        double[] r = math.lossAndCorrect(params, batch);
        return new Evaluation(r[0], (int) r[1], batch.size());
    }

    @Override
    public CompiledStep compile(StepProgram program) {
        return new Step(program);
    }

    @Override
    public void close() {
        // Nothing native to free.
    }

    private final class Step implements CompiledStep {
        private final StepProgram program;
        private List<HostTensor> state = new ArrayList<>();

        Step(StepProgram program) {
            this.program = program;
            for (StateSlot slot : program.state(spec.parameterShapes())) {
                HostTensor t = HostTensor.zeros(slot.shape());
                Arrays.fill(t.values(), slot.initialValue());
                state.add(t);
            }
        }

        @Override
        public StepSummary run(Batch train, Batch validation, double[] scalars) {
            GradientOracle<HostTensor> oracle = (values, pass) ->
                    math.lossAndGradients(values, pass.usesValidationBatch() ? validation : train);
            List<HostTensor> inputs = new ArrayList<>(scalars.length);
            for (double s : scalars) {
                inputs.add(HostTensor.scalar(s));
            }
            // The algebra never writes into its inputs, so θ is untouched by the perturbed passes.
            StepOutput<HostTensor> out = program.define(OPS, oracle, params, state, inputs);
            params = out.parameters();
            state = out.state();
            double[] summary = out.summary().values().clone();
            return () -> summary;
        }

        @Override
        public List<HostTensor> state() {
            return MlpMath.copies(state);
        }

        @Override
        public void close() {
            state = List.of();
        }
    }
}
