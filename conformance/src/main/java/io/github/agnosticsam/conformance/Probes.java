package io.github.agnosticsam.conformance;

import io.github.agnosticsam.algorithm.Ascent;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.spi.CompiledStep;
import io.github.agnosticsam.spi.GradientOracle;
import io.github.agnosticsam.spi.LossAndGradients;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.spi.Pass;
import io.github.agnosticsam.spi.StateSlot;
import io.github.agnosticsam.spi.StepOutput;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.spi.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Step programs that change nothing and read out what the properties of docs/algorithm.md are
 * about, computed by the engine under test with the core's own ascent code. They use perturbed
 * passes so that no running statistic moves.
 */
final class Probes {
    private Probes() {
    }

    /** Loss and gradients at the network's parameters on a batch, in float64 on the host. */
    record Gradients(double loss, List<double[]> grads) {
        double norm() {
            return Math.sqrt(dot(this, this));
        }

        static double dot(Gradients a, Gradients b) {
            double s = 0;
            for (int i = 0; i < a.grads.size(); i++) {
                double[] x = a.grads.get(i);
                double[] y = b.grads.get(i);
                for (int j = 0; j < x.length; j++) {
                    s += x[j] * y[j];
                }
            }
            return s;
        }
    }

    static Gradients gradients(Network network, Batch batch) {
        double[] s = run(network, new Probe(List.of(Pass.TRAIN_PERTURBED), new double[0]) {
            @Override
            <T> T summary(Tensors<T> ops, GradientOracle<T> oracle, List<T> params, List<T> scalars) {
                LossAndGradients<T> r = oracle.evaluate(params, Pass.TRAIN_PERTURBED);
                List<T> parts = new ArrayList<>();
                parts.add(r.loss());
                parts.addAll(r.gradients());
                return ops.concat(parts);
            }
        }, batch, null);
        List<double[]> grads = new ArrayList<>();
        int at = 1;
        for (int[] shape : network.model().parameterShapes()) {
            int n = Math.toIntExact(io.github.agnosticsam.model.HostTensor.size(shape));
            grads.add(Arrays.copyOfRange(s, at, at + n));
            at += n;
        }
        return new Gradients(s[0], grads);
    }

    /**
     * [‖D(θ, gₜ)‖, ‖D(θ, 0)‖, ‖e‖] with e = ρ₁·D(θ, gₜ) − ρ₂·D(θ, gᵥ), the gradients taken at θ on
     * the train and validation batches.
     */
    static double[] ascentNorms(Network network, Batch train, Batch validation, boolean adaptive, double eta,
            double rho1, double rho2) {
        double[] squares = run(network, new Probe(List.of(Pass.TRAIN_PERTURBED, Pass.VALIDATION_PERTURBED),
                new double[] {rho1, rho2}) {
            @Override
            <T> T summary(Tensors<T> ops, GradientOracle<T> oracle, List<T> params, List<T> scalars) {
                List<T> gt = oracle.evaluate(params, Pass.TRAIN_PERTURBED).gradients();
                List<T> gv = oracle.evaluate(params, Pass.VALIDATION_PERTURBED).gradients();
                List<T> zero = new ArrayList<>();
                for (T g : gt) {
                    zero.add(ops.mul(g, ops.scalar(0)));
                }
                T one = ops.scalar(1);
                return ops.concat(List.of(
                        squaredNorm(ops, Ascent.scaledDirection(ops, params, gt, one, adaptive, eta)),
                        squaredNorm(ops, Ascent.scaledDirection(ops, params, zero, one, adaptive, eta)),
                        squaredNorm(ops, Ascent.perturbation(ops, params,
                                Ascent.scaledDirection(ops, params, gt, scalars.get(0), adaptive, eta), gv,
                                scalars.get(1), adaptive, eta))));
            }
        }, train, validation);
        return new double[] {Math.sqrt(squares[0]), Math.sqrt(squares[1]), Math.sqrt(squares[2])};
    }

    /**
     * The program, but its {@link StepOutput} always says the step was applied: what is left of the
     * running-statistics rule is the engine's own check that they are finite.
     */
    static StepProgram sayingApplied(StepProgram program) {
        return new ForwardingProgram(program) {
            @Override
            public <T> StepOutput<T> define(Tensors<T> ops, GradientOracle<T> oracle, List<T> parameters,
                    List<T> state, List<T> scalars) {
                StepOutput<T> out = real.define(ops, oracle, parameters, state, scalars);
                return new StepOutput<>(out.parameters(), out.state(), out.summary(), ops.scalar(1));
            }
        };
    }

    private static <T> T squaredNorm(Tensors<T> ops, List<T> tensors) {
        T sum = ops.scalar(0);
        for (T t : tensors) {
            sum = ops.add(sum, ops.sumOfSquares(t));
        }
        return sum;
    }

    private static double[] run(Network network, Probe probe, Batch train, Batch validation) {
        try (CompiledStep step = network.compile(probe)) {
            return step.run(train, validation, probe.scalars(0)).read();
        }
    }

    /** A program that keeps the parameters and returns a summary of the probe's own. */
    private abstract static class Probe implements StepProgram {
        private final List<Pass> passes;
        private final double[] scalars;

        Probe(List<Pass> passes, double[] scalars) {
            this.passes = passes;
            this.scalars = scalars;
        }

        abstract <T> T summary(Tensors<T> ops, GradientOracle<T> oracle, List<T> params, List<T> scalars);

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
            return scalars.clone();
        }

        @Override
        public <T> StepOutput<T> define(Tensors<T> ops, GradientOracle<T> oracle, List<T> parameters, List<T> state,
                List<T> scalars) {
            return new StepOutput<>(parameters, state, summary(ops, oracle, parameters, scalars), ops.scalar(1));
        }
    }
}
