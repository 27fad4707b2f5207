package io.github.agnosticsam.conformance.reference;

import io.github.agnosticsam.Batch;
import io.github.agnosticsam.Evaluation;
import io.github.agnosticsam.HostTensor;
import io.github.agnosticsam.ModelSpec;
import io.github.agnosticsam.Network;
import io.github.agnosticsam.spi.CompiledStep;
import io.github.agnosticsam.spi.GradientOracle;
import io.github.agnosticsam.spi.LossAndGradients;
import io.github.agnosticsam.spi.StateSlot;
import io.github.agnosticsam.spi.StepOutput;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.spi.StepSummary;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A model on the reference engine: parameters and running statistics in Java memory, the math in
 * a {@link HostModel}. Step programs run eagerly, op by op.
 */
final class ReferenceNetwork implements Network {
    private static final HostAlgebra OPS = new HostAlgebra();

    private final ModelSpec spec;
    private final HostModel model;
    private final CrossEntropy crossEntropy;
    private List<HostTensor> params;
    private List<HostTensor> statistics;

    ReferenceNetwork(ModelSpec spec, List<HostTensor> initial) {
        this.spec = spec;
        this.model = HostModel.of(spec);
        this.crossEntropy = new CrossEntropy(spec.classes(), spec.labelSmoothing());
        this.statistics = spec.initialStatistics();
        setParameters(initial);
    }

    @Override
    public ModelSpec model() {
        return spec;
    }

    @Override
    public List<HostTensor> parameters() {
        return copies(params);
    }

    @Override
    public void setParameters(List<HostTensor> values) {
        spec.checkParameters(values);
        this.params = copies(values);
    }

    @Override
    public List<HostTensor> runningStatistics() {
        return copies(statistics);
    }

    @Override
    public Evaluation evaluate(Batch batch) {
        batch.checkFits(spec, "evaluation");
        return crossEntropy.evaluate(model.logits(params, statistics, batch), batch.labels());
    }

    @Override
    public CompiledStep compile(StepProgram program) {
        return new Step(program);
    }

    @Override
    public void close() {
        // Nothing native to free.
    }

    static List<HostTensor> copies(List<HostTensor> tensors) {
        List<HostTensor> out = new ArrayList<>(tensors.size());
        for (HostTensor t : tensors) {
            out.add(t.copy());
        }
        return out;
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
            // The clean train pass's statistics wait here until the step is known to be applied.
            List<List<HostTensor>> moved = new ArrayList<>(1);
            GradientOracle<HostTensor> oracle = (values, pass) -> {
                Batch batch = pass.usesValidationBatch() ? validation : train;
                if (batch == null) {
                    throw new IllegalArgumentException("the " + pass.describe() + " pass needs a validation batch");
                }
                boolean update = pass.updatesRunningStatistics();
                HostModel.Gradients g = model.lossAndGradients(values, statistics, batch, update);
                if (update) {
                    moved.clear();
                    moved.add(g.statistics());
                }
                return new LossAndGradients<>(HostTensor.scalar(g.loss()), g.gradients());
            };
            List<HostTensor> inputs = new ArrayList<>(scalars.length);
            for (double s : scalars) {
                inputs.add(HostTensor.scalar(s));
            }
            // The algebra never writes into its inputs, so θ is untouched by the perturbed passes,
            // and nothing is stored before the program returns: a step that throws changes nothing.
            StepOutput<HostTensor> out = program.define(OPS, oracle, params, state, inputs);
            params = out.parameters();
            state = out.state();
            if (!moved.isEmpty() && applied(out, moved.get(0))) {
                statistics = moved.get(0);
            }
            double[] summary = out.summary().values().clone();
            return () -> summary;
        }

        /** The program's own verdict when it gives one; an older program's step counts as applied when the statistics are finite. */
        private static boolean applied(StepOutput<HostTensor> out, List<HostTensor> next) {
            if (out.applied() != null) {
                return out.applied().values()[0] == 1;
            }
            for (HostTensor t : next) {
                if (OPS.allFinite(t).values()[0] != 1) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public List<HostTensor> state() {
            return copies(state);
        }

        @Override
        public void close() {
            state = List.of();
        }
    }
}
