package io.github.agnosticsam.conformance.reference;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.agnosticsam.conformance.SyntheticBatches;
import io.github.agnosticsam.diagnostics.Curvature;
import io.github.agnosticsam.diagnostics.CurvatureOptions;
import io.github.agnosticsam.diagnostics.Trace;
import io.github.agnosticsam.model.Activation;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.Sgd;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.training.Training;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The finite-difference error on the standard MLP (784-256-10) trained on Fashion-MNIST, in float64
 * on the reference engine, against exact Hessian-vector products: Pearlmutter's R-operator written
 * out for a one-hidden-layer MLP ({@link #exactProduct}; for ReLU the Hessian almost everywhere, as
 * autograd's), itself checked against the coordinate-wise Hessian on a small MLP by the one test
 * here that always runs. The measurement takes minutes and needs the data set, so it runs only when
 * asked: {@code mvn -o -pl core,conformance -am test -Dtest='CurvatureStandardMlpTest,CurvatureTest'
 * -Dsurefire.failIfNoSpecifiedTests=false -Dcurvature.measure=true} (with {@code
 * -Dcurvature.data=DIR} for another folder than Debian's). docs/diagnostics.md quotes its table.
 */
class CurvatureStandardMlpTest {
    private static final double[] STEPS = {1e-3, 1e-2, 5e-2, 1e-1};
    private static final int PROBES = 20;

    @Test
    void theExactProductIsTheCoordinateWiseHessianOnASmallMlp() {
        for (Activation activation : Activation.values()) {
            ModelSpec.Mlp spec = new ModelSpec.Mlp(new int[] {6, 9, 4}, activation, 0.0);
            SplittableRandom random = new SplittableRandom(4);
            List<Batch> batches = List.of(SyntheticBatches.learnable(spec, 7, random),
                    SyntheticBatches.learnable(spec, 5, random));
            double[] theta = ExactHessian.flat(spec.initialParameters(9));
            double[][] h = ExactHessian.of(spec, theta, batches, null);
            double[] v = new double[theta.length];
            for (int i = 0; i < v.length; i++) {
                v[i] = random.nextDouble(-1, 1);
            }
            double[] expected = ExactHessian.times(h, v);
            double[] got = exactProduct(spec, theta, batches, v);
            double error = 0;
            for (int i = 0; i < v.length; i++) {
                error = Math.max(error, Math.abs(got[i] - expected[i]));
            }
            assertThat(error).as("%s", activation).isLessThan(1e-8 * ExactHessian.norm(expected));
        }
    }

    @Test
    @EnabledIfSystemProperty(named = "curvature.measure", matches = "true")
    void measureOnTheStandardMlp() throws IOException {
        Path dir = Path.of(System.getProperty("curvature.data", "/usr/share/datasets/fashion-mnist"));
        int n = 5000;
        double[] x = images(dir.resolve("train-images-idx3-ubyte.gz"), n);
        int[] y = labels(dir.resolve("train-labels-idx1-ubyte.gz"), n);
        for (Activation activation : Activation.values()) {
            ModelSpec.Mlp spec = new ModelSpec.Mlp(new int[] {784, 256, 10}, activation, 0.0);
            List<HostTensor> trained;
            long start = System.nanoTime();
            int epochs = Integer.getInteger("curvature.epochs", 3);
            try (Network net = new ReferenceNetwork(spec, spec.initialParameters(0), false);
                    Training t = Training.start(net, Sgd.builder().lr(0.05).momentum(0.9).build())) {
                for (int e = 0; e < epochs; e++) {
                    for (int b = 0; b + 128 <= n; b += 128) {
                        t.step(batch(x, y, b, 128));
                    }
                }
                trained = net.parameters();
            }
            List<Batch> batches = List.of(batch(x, y, 0, 256), batch(x, y, 256, 256));
            double[] theta = ExactHessian.flat(trained);
            System.out.printf("%s 784-256-10, %d epochs of %d images (%.0f s): ‖θ‖ %.3f, loss %.4f%n", activation,
                    epochs, n, (System.nanoTime() - start) / 1e9, ExactHessian.norm(theta),
                    ExactHessian.loss(spec, theta, batches));
            double lambda = exactLambdaMax(spec, theta, batches);
            double[][] z = Curvature.rademacherProbes(0, PROBES, theta.length);
            double sameProbes = 0;
            for (double[] probe : z) {
                sameProbes += ExactHessian.dot(probe, exactProduct(spec, theta, batches, probe)) / PROBES;
            }
            System.out.printf("  exact: λ_max %.6g, trace (same %d probes) %.6g%n", lambda, PROBES, sameProbes);
            try (Network net = new ReferenceNetwork(spec, trained, false)) {
                for (double h : STEPS) {
                    CurvatureOptions options = CurvatureOptions.defaults().withHRelative(h).withTolerance(1e-8)
                            .withMaxIterations(300);
                    try (Curvature c = Curvature.of(net, batches, options)) {
                        var l = c.lambdaMax();
                        Trace t = c.trace(PROBES);
                        System.out.printf("  h %.0e: λ_max %.6g (error %.1e, %d iterations%s), trace %.6g (error %.1e, "
                                + "standard error %.2g)%n", h, l.value(), Math.abs(l.value() - lambda) / Math.abs(lambda),
                                l.iterations(), l.converged() ? "" : ", not converged", t.value(),
                                Math.abs(t.value() - sameProbes) / Math.abs(sameProbes), t.standardError());
                    }
                }
                try (Curvature c = Curvature.of(net, batches)) {
                    var l = c.lambdaMax();
                    System.out.printf("  default options: λ_max %.6g (error %.1e, %d iterations%s, %d gradient evaluations)%n",
                            l.value(), Math.abs(l.value() - lambda) / Math.abs(lambda), l.iterations(),
                            l.converged() ? "" : ", not converged", l.gradientEvaluations());
                }
            }
        }
    }

    /**
     * Power iteration on the exact products, to 1e-8: the eigenvalue of largest magnitude, which is
     * λ_max (the largest) when positive — checked.
     */
    private static double exactLambdaMax(ModelSpec.Mlp spec, double[] theta, List<Batch> batches) {
        double[] v = new double[theta.length];
        SplittableRandom random = new SplittableRandom(1);
        for (int i = 0; i < v.length; i++) {
            v[i] = random.nextDouble(-1, 1);
        }
        double lambda = 0;
        double previous = Double.NaN;
        for (int it = 0; it < 2000; it++) {
            double size = ExactHessian.norm(v);
            for (int i = 0; i < v.length; i++) {
                v[i] /= size;
            }
            double[] w = exactProduct(spec, theta, batches, v);
            lambda = ExactHessian.dot(v, w);
            if (Math.abs(lambda - previous) <= 1e-8 * Math.abs(lambda)) {
                if (lambda <= 0) {
                    throw new AssertionError("the eigenvalue of largest magnitude is " + lambda + ": λ_max is another");
                }
                return lambda;
            }
            previous = lambda;
            v = w;
        }
        throw new AssertionError("exact power iteration did not converge: " + lambda);
    }

    /**
     * H·v of the mean cross-entropy of a one-hidden-layer MLP (no BatchNorm, no label smoothing) by the
     * R-operator: the directional derivative of the backward pass along v, example by example.
     */
    static double[] exactProduct(ModelSpec.Mlp spec, double[] theta, List<Batch> batches, double[] v) {
        int in = spec.layers()[0];
        int hidden = spec.layers()[1];
        int classes = spec.layers()[2];
        boolean relu = spec.activation() == Activation.RELU;
        int w0 = 0;
        int b0 = w0 + hidden * in;
        int w1 = b0 + hidden;
        int b1 = w1 + classes * hidden;
        double[] out = new double[theta.length];
        int total = batches.stream().mapToInt(Batch::size).sum();
        for (Batch batch : batches) {
            double[] xs = batch.features().values();
            for (int k = 0; k < batch.size(); k++) {
                int xo = k * in;
                double[] z = new double[hidden];
                double[] rz = new double[hidden];
                for (int j = 0; j < hidden; j++) {
                    double s = theta[b0 + j];
                    double r = v[b0 + j];
                    for (int i = 0; i < in; i++) {
                        s += theta[w0 + j * in + i] * xs[xo + i];
                        r += v[w0 + j * in + i] * xs[xo + i];
                    }
                    z[j] = s;
                    rz[j] = r;
                }
                double[] a = new double[hidden];
                double[] d1 = new double[hidden]; // σ'(z)
                double[] d2 = new double[hidden]; // σ''(z)
                for (int j = 0; j < hidden; j++) {
                    if (relu) {
                        a[j] = Math.max(0, z[j]);
                        d1[j] = z[j] > 0 ? 1 : 0;
                    } else {
                        a[j] = Math.tanh(z[j]);
                        d1[j] = 1 - a[j] * a[j];
                        d2[j] = -2 * a[j] * d1[j];
                    }
                }
                double[] ra = new double[hidden];
                for (int j = 0; j < hidden; j++) {
                    ra[j] = d1[j] * rz[j];
                }
                double[] o = new double[classes];
                double[] ro = new double[classes];
                for (int c = 0; c < classes; c++) {
                    double s = theta[b1 + c];
                    double r = v[b1 + c];
                    for (int j = 0; j < hidden; j++) {
                        s += theta[w1 + c * hidden + j] * a[j];
                        r += v[w1 + c * hidden + j] * a[j] + theta[w1 + c * hidden + j] * ra[j];
                    }
                    o[c] = s;
                    ro[c] = r;
                }
                double max = java.util.Arrays.stream(o).max().orElseThrow();
                double[] p = new double[classes];
                double sum = 0;
                for (int c = 0; c < classes; c++) {
                    p[c] = Math.exp(o[c] - max);
                    sum += p[c];
                }
                double pro = 0;
                for (int c = 0; c < classes; c++) {
                    p[c] /= sum;
                    pro += p[c] * ro[c];
                }
                double[] dout = new double[classes];
                double[] rdout = new double[classes];
                for (int c = 0; c < classes; c++) {
                    dout[c] = (p[c] - (c == batch.labels()[k] ? 1 : 0)) / total;
                    rdout[c] = p[c] * (ro[c] - pro) / total;
                }
                double[] da = new double[hidden];
                double[] rda = new double[hidden];
                for (int c = 0; c < classes; c++) {
                    out[b1 + c] += rdout[c];
                    for (int j = 0; j < hidden; j++) {
                        out[w1 + c * hidden + j] += rdout[c] * a[j] + dout[c] * ra[j];
                        da[j] += theta[w1 + c * hidden + j] * dout[c];
                        rda[j] += v[w1 + c * hidden + j] * dout[c] + theta[w1 + c * hidden + j] * rdout[c];
                    }
                }
                for (int j = 0; j < hidden; j++) {
                    double rdz = rda[j] * d1[j] + da[j] * d2[j] * rz[j];
                    out[b0 + j] += rdz;
                    for (int i = 0; i < in; i++) {
                        out[w0 + j * in + i] += rdz * xs[xo + i];
                    }
                }
            }
        }
        return out;
    }

    private static Batch batch(double[] x, int[] y, int from, int size) {
        double[] features = java.util.Arrays.copyOfRange(x, from * 784, (from + size) * 784);
        return new Batch(HostTensor.of(features, size, 784), java.util.Arrays.copyOfRange(y, from, from + size));
    }

    /** The first n images of an IDX file, pixels / 255. */
    private static double[] images(Path file, int n) throws IOException {
        try (DataInputStream in = open(file)) {
            in.readInt();
            in.readInt();
            int rows = in.readInt();
            int cols = in.readInt();
            byte[] raw = in.readNBytes(n * rows * cols);
            double[] out = new double[raw.length];
            for (int i = 0; i < raw.length; i++) {
                out[i] = (raw[i] & 0xff) / 255.0;
            }
            return out;
        }
    }

    private static int[] labels(Path file, int n) throws IOException {
        try (DataInputStream in = open(file)) {
            in.readInt();
            in.readInt();
            byte[] raw = in.readNBytes(n);
            int[] out = new int[n];
            for (int i = 0; i < n; i++) {
                out[i] = raw[i];
            }
            return out;
        }
    }

    private static DataInputStream open(Path file) throws IOException {
        InputStream raw = Files.newInputStream(file);
        return new DataInputStream(new java.io.BufferedInputStream(new GZIPInputStream(raw)));
    }
}
