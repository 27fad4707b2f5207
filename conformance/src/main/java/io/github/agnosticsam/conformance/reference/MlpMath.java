package io.github.agnosticsam.conformance.reference;

import io.github.agnosticsam.model.Activation;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * The MLP in float64: dense layers z = h·Wᵀ + b, ReLU or tanh between them. With BatchNorm each
 * hidden layer is z = h·Wᵀ (no bias) → BatchNorm1d → activation, as PyTorch: momentum 0.1,
 * ε 1e-5, affine γ and β; training mode normalises with the batch mean and biased variance and
 * moves the running variance with the unbiased one.
 */
final class MlpMath implements HostModel {
    static final double BN_EPSILON = 1e-5;
    static final double BN_MOMENTUM = 0.1;

    private final ModelSpec.Mlp spec;
    private final int[] widths;
    private final int layers;
    private final CrossEntropy crossEntropy;

    MlpMath(ModelSpec.Mlp spec) {
        this.spec = spec;
        this.widths = spec.layers();
        this.layers = widths.length - 1;
        this.crossEntropy = new CrossEntropy(spec.classes(), spec.labelSmoothing());
    }

    /** Whether layer l is dense → BatchNorm: every hidden layer of a BatchNorm MLP, never the last. */
    private boolean normalised(int l) {
        return spec.batchNorm() && l + 1 < layers;
    }

    /** Index of Wₗ in the parameter list; bₗ, or γₗ and βₗ, follow it. */
    private int weightIndex(int l) {
        int index = 0;
        for (int k = 0; k < l; k++) {
            index += normalised(k) ? 3 : 2;
        }
        return index;
    }

    /** Index of meanₗ in the statistics; varₗ follows it. */
    private int statisticIndex(int l) {
        int index = 0;
        for (int k = 0; k < l; k++) {
            index += normalised(k) ? 2 : 0;
        }
        return index;
    }

    /** What the backward pass needs from the forward pass of one layer. */
    private static final class Layer {
        double[] input; // h, [n·in]
        double[] output; // what the activation reads: BatchNorm's y, else z; the logits for the last layer
        // BatchNorm only: the normalised z; per feature 1/√(σ² + ε), μ and σ² (the batch's or the
        // running ones), and in training mode Σ(z − μ)² for the unbiased variance.
        double[] normalised;
        double[] inverseStd;
        double[] mean;
        double[] variance;
        double[] squares;
    }

    /**
     * The forward pass. {@code training}: BatchNorm normalises with the batch's statistics, else
     * with {@code statistics}.
     */
    private Layer[] forward(List<HostTensor> params, List<HostTensor> statistics, double[] x, int n, boolean training) {
        Layer[] out = new Layer[layers];
        double[] h = x;
        for (int l = 0; l < layers; l++) {
            int in = widths[l];
            int width = widths[l + 1];
            int w = weightIndex(l);
            Layer layer = new Layer();
            layer.input = h;
            if (normalised(l)) {
                double[] z = dense(h, n, in, params.get(w).values(), width, null);
                if (training) {
                    batchStatistics(layer, z, n, width);
                } else {
                    layer.mean = statistics.get(statisticIndex(l)).values();
                    layer.variance = statistics.get(statisticIndex(l) + 1).values();
                }
                layer.output = normalise(layer, z, n, width, params.get(w + 1).values(), params.get(w + 2).values());
            } else {
                layer.output = dense(h, n, in, params.get(w).values(), width, params.get(w + 1).values());
            }
            out[l] = layer;
            if (l + 1 < layers) {
                h = activate(layer.output);
            }
        }
        return out;
    }

    /** z = h·Wᵀ (+ b), h of shape [n, in] and W of [out, in]. */
    private static double[] dense(double[] h, int n, int in, double[] w, int out, double[] b) {
        double[] z = new double[n * out];
        for (int i = 0; i < n; i++) {
            for (int o = 0; o < out; o++) {
                double s = b == null ? 0 : b[o];
                for (int k = 0; k < in; k++) {
                    s += h[i * in + k] * w[o * in + k];
                }
                z[i * out + o] = s;
            }
        }
        return z;
    }

    /** Per feature: the batch mean and the biased variance (divided by n, as BatchNorm normalises). */
    private static void batchStatistics(Layer layer, double[] z, int n, int width) {
        layer.mean = new double[width];
        layer.variance = new double[width];
        layer.squares = new double[width];
        for (int o = 0; o < width; o++) {
            double sum = 0;
            for (int i = 0; i < n; i++) {
                sum += z[i * width + o];
            }
            double mean = sum / n;
            double squares = 0;
            for (int i = 0; i < n; i++) {
                double d = z[i * width + o] - mean;
                squares += d * d;
            }
            layer.mean[o] = mean;
            layer.squares[o] = squares;
            layer.variance[o] = squares / n;
        }
    }

    /** y = γ·(z − μ)/√(σ² + ε) + β with the layer's μ and σ²; keeps the normalised z for the backward pass. */
    private static double[] normalise(Layer layer, double[] z, int n, int width, double[] gamma, double[] beta) {
        layer.inverseStd = new double[width];
        layer.normalised = new double[n * width];
        double[] y = new double[n * width];
        for (int o = 0; o < width; o++) {
            layer.inverseStd[o] = 1 / Math.sqrt(layer.variance[o] + BN_EPSILON);
        }
        for (int i = 0; i < n; i++) {
            for (int o = 0; o < width; o++) {
                double xhat = (z[i * width + o] - layer.mean[o]) * layer.inverseStd[o];
                layer.normalised[i * width + o] = xhat;
                y[i * width + o] = gamma[o] * xhat + beta[o];
            }
        }
        return y;
    }

    private double[] activate(double[] z) {
        double[] h = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            h[i] = spec.activation() == Activation.RELU ? Math.max(0, z[i]) : Math.tanh(z[i]);
        }
        return h;
    }

    @Override
    public Gradients lossAndGradients(List<HostTensor> params, List<HostTensor> statistics, Batch batch,
            boolean updateStatistics) {
        int n = batch.size();
        if (normalised(0) && n < 2) {
            // Batch statistics of one example are meaningless (the variance is 0); PyTorch refuses too.
            throw new IllegalArgumentException("BatchNorm in training mode needs batches of at least 2 examples, got "
                    + n + " (" + spec + ")");
        }
        Layer[] forward = forward(params, statistics, batch.features().values(), n, true);
        double[] dOutput = new double[n * spec.classes()];
        double loss = crossEntropy.loss(forward[layers - 1].output, batch.labels(), dOutput);

        HostTensor[] grads = new HostTensor[params.size()];
        for (int l = layers - 1; l >= 0; l--) {
            int in = widths[l];
            int width = widths[l + 1];
            int w = weightIndex(l);
            Layer layer = forward[l];
            double[] dz;
            if (normalised(l)) {
                double[] gamma = params.get(w + 1).values();
                double[] dGamma = new double[width];
                double[] dBeta = new double[width];
                dz = normaliseBackward(layer, dOutput, n, width, gamma, dGamma, dBeta);
                grads[w + 1] = HostTensor.of(dGamma, width);
                grads[w + 2] = HostTensor.of(dBeta, width);
            } else {
                dz = dOutput;
                double[] db = new double[width];
                for (int i = 0; i < n; i++) {
                    for (int o = 0; o < width; o++) {
                        db[o] += dz[i * width + o];
                    }
                }
                grads[w + 1] = HostTensor.of(db, width);
            }
            double[] dw = new double[width * in];
            for (int i = 0; i < n; i++) {
                for (int o = 0; o < width; o++) {
                    double d = dz[i * width + o];
                    for (int k = 0; k < in; k++) {
                        dw[o * in + k] += d * layer.input[i * in + k];
                    }
                }
            }
            grads[w] = HostTensor.of(dw, width, in);
            if (l > 0) {
                dOutput = activationBackward(dInput(dz, params.get(w).values(), n, in, width), layer.input);
            }
        }
        List<HostTensor> next = updateStatistics ? nextStatistics(forward, statistics, n) : List.of();
        return new Gradients(loss, List.of(grads), next);
    }

    /**
     * BatchNorm's backward pass in training mode, through the batch mean and variance. With
     * x̂ = (z − μ)·s, s = 1/√(σ² + ε) and g = ∂L/∂x̂ = γ·∂L/∂y, summing over the batch:
     * ∂L/∂z = s·(g − mean(g) − x̂·mean(g·x̂)), because ∂μ/∂z = 1/n and ∂σ²/∂z = 2(z − μ)/n.
     * Writes ∂L/∂γ = Σ ∂L/∂y·x̂ and ∂L/∂β = Σ ∂L/∂y.
     */
    private static double[] normaliseBackward(Layer layer, double[] dy, int n, int width, double[] gamma,
            double[] dGamma, double[] dBeta) {
        double[] dz = new double[n * width];
        for (int o = 0; o < width; o++) {
            double sumG = 0;
            double sumGx = 0;
            for (int i = 0; i < n; i++) {
                double d = dy[i * width + o];
                double xhat = layer.normalised[i * width + o];
                dGamma[o] += d * xhat;
                dBeta[o] += d;
                sumG += d * gamma[o];
                sumGx += d * gamma[o] * xhat;
            }
            double meanG = sumG / n;
            double meanGx = sumGx / n;
            for (int i = 0; i < n; i++) {
                double g = dy[i * width + o] * gamma[o];
                double xhat = layer.normalised[i * width + o];
                dz[i * width + o] = layer.inverseStd[o] * (g - meanG - xhat * meanGx);
            }
        }
        return dz;
    }

    /** ∂L/∂h = ∂L/∂z·W. */
    private static double[] dInput(double[] dz, double[] w, int n, int in, int width) {
        double[] dh = new double[n * in];
        for (int i = 0; i < n; i++) {
            for (int o = 0; o < width; o++) {
                double d = dz[i * width + o];
                for (int k = 0; k < in; k++) {
                    dh[i * in + k] += d * w[o * in + k];
                }
            }
        }
        return dh;
    }

    /** ∂L/∂(activation input) from ∂L/∂h and h itself: ReLU passes where h > 0, tanh' = 1 − h². */
    private double[] activationBackward(double[] dh, double[] h) {
        double[] out = new double[dh.length];
        for (int i = 0; i < dh.length; i++) {
            double slope = spec.activation() == Activation.RELU ? (h[i] > 0 ? 1 : 0) : 1 - h[i] * h[i];
            out[i] = dh[i] * slope;
        }
        return out;
    }

    /** running ← 0.1·batch + 0.9·running, the variance unbiased (n − 1), in PyTorch's order of operations. */
    private List<HostTensor> nextStatistics(Layer[] forward, List<HostTensor> statistics, int n) {
        List<HostTensor> next = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            if (!normalised(l)) {
                continue;
            }
            double[] mean = statistics.get(statisticIndex(l)).values();
            double[] var = statistics.get(statisticIndex(l) + 1).values();
            int width = mean.length;
            double[] nextMean = new double[width];
            double[] nextVar = new double[width];
            for (int o = 0; o < width; o++) {
                double unbiased = forward[l].squares[o] / (n - 1);
                nextMean[o] = BN_MOMENTUM * forward[l].mean[o] + (1 - BN_MOMENTUM) * mean[o];
                nextVar[o] = BN_MOMENTUM * unbiased + (1 - BN_MOMENTUM) * var[o];
            }
            next.add(HostTensor.of(nextMean, width));
            next.add(HostTensor.of(nextVar, width));
        }
        return next;
    }

    @Override
    public double[] logits(List<HostTensor> params, List<HostTensor> statistics, Batch batch) {
        return forward(params, statistics, batch.features().values(), batch.size(), false)[layers - 1].output;
    }
}
