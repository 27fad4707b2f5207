package org.example.engine;

import io.github.agnosticsam.model.Activation;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import java.util.List;

/**
 * The forward and backward passes of a dense network without BatchNorm, in float64 (docs/models.md):
 * layer l computes z = h·Wₗᵀ + bₗ with Wₗ of shape [out, in]; hidden layers apply the activation,
 * the last gives the logits. The loss is the mean softmax cross-entropy against the targets
 * (1 − s)·onehot(y) + s/C, s the model's label smoothing. Arrays are row-major, one row per example.
 */
final class MlpPasses {
    private final int[] widths;
    private final Activation activation;
    private final double smoothing;

    MlpPasses(ModelSpec.Mlp spec) {
        this.widths = spec.layers();
        this.activation = spec.activation();
        this.smoothing = spec.labelSmoothing();
    }

    record LossAndGradients(double loss, List<HostTensor> gradients) {
    }

    /** The logits, of shape [n, classes]. */
    HostTensor logits(List<HostTensor> parameters, Batch batch) {
        double[][] h = forward(parameters, batch);
        return HostTensor.of(h[h.length - 1], batch.size(), classes());
    }

    /** The mean loss and its gradient for every parameter, in the model's order (W0, b0, W1, ...). */
    LossAndGradients lossAndGradients(List<HostTensor> parameters, Batch batch) {
        int n = batch.size();
        int layers = widths.length - 1;
        double[][] h = forward(parameters, batch);
        double[] delta = new double[n * classes()]; // ∂loss/∂z of the layer at hand
        double loss = crossEntropy(h[layers], batch.labels(), delta);
        HostTensor[] gradients = new HostTensor[2 * layers];
        for (int l = layers - 1; l >= 0; l--) {
            int in = widths[l];
            int out = widths[l + 1];
            double[] input = h[l];
            double[] gw = new double[out * in];
            double[] gb = new double[out];
            for (int r = 0; r < n; r++) {
                for (int o = 0; o < out; o++) {
                    double d = delta[r * out + o];
                    gb[o] += d;
                    for (int k = 0; k < in; k++) {
                        gw[o * in + k] += d * input[r * in + k];
                    }
                }
            }
            gradients[2 * l] = HostTensor.of(gw, out, in);
            gradients[2 * l + 1] = HostTensor.of(gb, out);
            if (l > 0) {
                delta = backThroughLayer(parameters.get(2 * l).values(), delta, input, n, in, out);
            }
        }
        return new LossAndGradients(loss, List.of(gradients));
    }

    private int classes() {
        return widths[widths.length - 1];
    }

    /** h[0] is the input, h[l] the output of layer l (activated when hidden), the last the logits. */
    private double[][] forward(List<HostTensor> parameters, Batch batch) {
        int n = batch.size();
        int layers = widths.length - 1;
        double[][] h = new double[layers + 1][];
        h[0] = batch.features().values();
        for (int l = 0; l < layers; l++) {
            int in = widths[l];
            int out = widths[l + 1];
            double[] w = parameters.get(2 * l).values();
            double[] b = parameters.get(2 * l + 1).values();
            boolean hidden = l + 1 < layers;
            double[] z = new double[n * out];
            for (int r = 0; r < n; r++) {
                for (int o = 0; o < out; o++) {
                    double sum = 0;
                    for (int k = 0; k < in; k++) {
                        sum += h[l][r * in + k] * w[o * in + k];
                    }
                    sum += b[o];
                    z[r * out + o] = hidden ? activate(sum) : sum;
                }
            }
            h[l + 1] = z;
        }
        return h;
    }

    private double activate(double z) {
        return switch (activation) {
            case RELU -> Math.max(0, z); // NaN stays NaN
            case TANH -> Math.tanh(z);
        };
    }

    /**
     * ∂loss/∂z of the layer below, from ∂loss/∂z of this one ({@code delta}) and the activated output
     * {@code h} of the layer below: the derivative is read from h (ReLU: 1 where h > 0; tanh: 1 − h²).
     */
    private double[] backThroughLayer(double[] w, double[] delta, double[] h, int n, int in, int out) {
        double[] below = new double[n * in];
        for (int r = 0; r < n; r++) {
            for (int k = 0; k < in; k++) {
                double sum = 0;
                for (int o = 0; o < out; o++) {
                    sum += delta[r * out + o] * w[o * in + k];
                }
                double a = h[r * in + k];
                below[r * in + k] = switch (activation) {
                    case RELU -> a > 0 ? sum : 0; // a selection, as torch's backward: 0 at and below 0
                    case TANH -> sum * (1 - a * a);
                };
            }
        }
        return below;
    }

    /**
     * The mean loss over the batch; writes ∂loss/∂logits = (softmax − target)/n into {@code delta}.
     * The log-sum-exp is taken from the row's largest logit, so large logits do not overflow.
     */
    private double crossEntropy(double[] logits, int[] labels, double[] delta) {
        int n = labels.length;
        int c = classes();
        double total = 0;
        for (int r = 0; r < n; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < c; k++) {
                max = Math.max(max, logits[r * c + k]); // NaN stays NaN
            }
            double sum = 0;
            for (int k = 0; k < c; k++) {
                sum += Math.exp(logits[r * c + k] - max);
            }
            double logNormaliser = max + Math.log(sum);
            for (int k = 0; k < c; k++) {
                double target = (k == labels[r] ? 1 - smoothing : 0) + smoothing / c;
                double logP = logits[r * c + k] - logNormaliser;
                if (target != 0) { // as torch: a class with no target weight adds nothing, even at logP = −Inf
                    total -= target * logP;
                }
                delta[r * c + k] = (Math.exp(logP) - target) / n;
            }
        }
        return total / n;
    }
}
