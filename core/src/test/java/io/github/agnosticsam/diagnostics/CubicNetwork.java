package io.github.agnosticsam.diagnostics;

import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.Evaluation;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.spi.CompiledStep;
import io.github.agnosticsam.spi.GradientOracle;
import io.github.agnosticsam.spi.LossAndGradients;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.spi.StepOutput;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.spi.StepSummary;
import io.github.agnosticsam.spi.Tensors;
import java.util.ArrayList;
import java.util.List;

/**
 * A fake network whose loss is known in closed form, so that its Hessian is too: on batch b,
 * {@code L_b(θ) = m_b·(½θᵀAθ + lᵀθ + (c/6)·Σθᵢ³)} with m_b the mean of the batch's features, θ the 7
 * elements of a [2, 2] and a [3] tensor. Its gradient is {@code m_b·(Aθ + l + (c/2)·θ²)}, its Hessian
 * {@code m_b·(A + c·diag θ)}. It runs any step program over host tensors, counts compilations and runs,
 * and can be told to fail on a given run.
 */
final class CubicNetwork implements Network {
    static final ModelSpec SPEC = new ModelSpec.Custom("cubic", new int[] {1}, 2,
            List.of(new int[] {2, 2}, new int[] {3}), List.of("w", "b"), List.of(1, 1), 0.0);
    static final int D = 7;

    final double[][] a;
    final double[] linear;
    final double cubic;
    private double[] theta;
    int compilations;
    int runs;
    int failOnRun = -1;
    double poisonAbove = Double.POSITIVE_INFINITY;

    CubicNetwork(double[][] a, double[] linear, double cubic, double[] theta) {
        this.a = a;
        this.linear = linear;
        this.cubic = cubic;
        this.theta = theta.clone();
    }

    /** The exact Hessian of the size-weighted mean loss over {@code batches}, at θ. */
    double[][] hessian(double[] at, List<Batch> batches) {
        double m = meanFeature(batches);
        double[][] h = new double[D][D];
        for (int i = 0; i < D; i++) {
            for (int j = 0; j < D; j++) {
                h[i][j] = m * (a[i][j] + (i == j ? cubic * at[i] : 0));
            }
        }
        return h;
    }

    /** The exact gradient of the mean loss over {@code batches}, at θ. */
    double[] gradient(double[] at, List<Batch> batches) {
        return scaled(rawGradient(at), meanFeature(batches));
    }

    double loss(double[] at, List<Batch> batches) {
        return meanFeature(batches) * rawLoss(at);
    }

    static double meanFeature(List<Batch> batches) {
        double sum = 0;
        int n = 0;
        for (Batch b : batches) {
            for (double x : b.features().values()) {
                sum += x;
            }
            n += b.size();
        }
        return sum / n;
    }

    double[] theta() {
        return theta.clone();
    }

    private double rawLoss(double[] t) {
        double s = 0;
        for (int i = 0; i < D; i++) {
            double ai = 0;
            for (int j = 0; j < D; j++) {
                ai += a[i][j] * t[j];
            }
            s += 0.5 * t[i] * ai + linear[i] * t[i] + cubic / 6 * t[i] * t[i] * t[i];
        }
        return s;
    }

    private double[] rawGradient(double[] t) {
        double[] g = new double[D];
        for (int i = 0; i < D; i++) {
            for (int j = 0; j < D; j++) {
                g[i] += a[i][j] * t[j];
            }
            g[i] += linear[i] + cubic / 2 * t[i] * t[i];
        }
        return g;
    }

    private static double[] scaled(double[] v, double f) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = f * v[i];
        }
        return out;
    }

    private static double[] flat(List<HostTensor> values) {
        double[] out = new double[D];
        System.arraycopy(values.get(0).values(), 0, out, 0, 4);
        System.arraycopy(values.get(1).values(), 0, out, 4, 3);
        return out;
    }

    private static List<HostTensor> tensors(double[] flat) {
        return List.of(HostTensor.of(java.util.Arrays.copyOfRange(flat, 0, 4), 2, 2),
                HostTensor.of(java.util.Arrays.copyOfRange(flat, 4, 7), 3));
    }

    @Override
    public ModelSpec model() {
        return SPEC;
    }

    @Override
    public List<HostTensor> parameters() {
        return tensors(theta);
    }

    @Override
    public void setParameters(List<HostTensor> values) {
        SPEC.checkParameters(values);
        theta = flat(values);
    }

    @Override
    public String engineName() {
        return "cubic";
    }

    @Override
    public Evaluation evaluate(Batch batch) {
        throw new UnsupportedOperationException();
    }

    @Override
    public CompiledStep compile(StepProgram program) {
        compilations++;
        return new CompiledStep() {
            @Override
            public StepSummary run(Batch train, Batch validation, double[] scalars) {
                if (++runs == failOnRun) {
                    throw new IllegalStateException("planted failure on run " + runs);
                }
                double m = meanFeature(List.of(train));
                GradientOracle<HostTensor> oracle = (values, pass) -> {
                    double[] t = flat(values);
                    double[] g = scaled(rawGradient(t), m);
                    double loss = m * rawLoss(t);
                    if (java.util.Arrays.stream(t).anyMatch(x -> Math.abs(x) > poisonAbove)) {
                        g[0] = Double.NaN;
                        loss = Double.NaN;
                    }
                    return new LossAndGradients<>(HostTensor.scalar(loss), tensors(g));
                };
                StepOutput<HostTensor> out = program.define(OPS, oracle, tensors(theta), List.of(), List.of());
                theta = flat(out.parameters());
                double[] summary = out.summary().values().clone();
                return () -> summary;
            }

            @Override
            public List<HostTensor> state() {
                return List.of();
            }

            @Override
            public void setState(List<HostTensor> values) {
                throw new UnsupportedOperationException("the diagnostics never set state");
            }

            @Override
            public void close() {
            }
        };
    }

    @Override
    public void close() {
    }

    /** Just what the diagnostics' program needs: concatenation. */
    private static final Tensors<HostTensor> OPS = new Tensors<>() {
        @Override
        public HostTensor concat(List<HostTensor> tensors) {
            List<Double> all = new ArrayList<>();
            for (HostTensor t : tensors) {
                for (double v : t.values()) {
                    all.add(v);
                }
            }
            return HostTensor.of(all.stream().mapToDouble(Double::doubleValue).toArray(), all.size());
        }

        @Override
        public HostTensor scalar(double value) {
            return HostTensor.scalar(value);
        }

        @Override
        public HostTensor add(HostTensor a, HostTensor b) {
            throw new UnsupportedOperationException();
        }

        @Override
        public HostTensor sub(HostTensor a, HostTensor b) {
            throw new UnsupportedOperationException();
        }

        @Override
        public HostTensor mul(HostTensor a, HostTensor b) {
            throw new UnsupportedOperationException();
        }

        @Override
        public HostTensor div(HostTensor a, HostTensor b) {
            throw new UnsupportedOperationException();
        }

        @Override
        public HostTensor sqrt(HostTensor a) {
            throw new UnsupportedOperationException();
        }

        @Override
        public HostTensor abs(HostTensor a) {
            throw new UnsupportedOperationException();
        }

        @Override
        public HostTensor sumOfSquares(HostTensor a) {
            throw new UnsupportedOperationException();
        }

        @Override
        public HostTensor allFinite(HostTensor a) {
            throw new UnsupportedOperationException();
        }

        @Override
        public HostTensor where(HostTensor condition, HostTensor a, HostTensor b) {
            throw new UnsupportedOperationException();
        }
    };
}
