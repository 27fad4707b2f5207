package io.github.agnosticsam.conformance.reference;

import io.github.agnosticsam.Activation;
import io.github.agnosticsam.Batch;
import io.github.agnosticsam.HostTensor;
import io.github.agnosticsam.ModelSpec;
import io.github.agnosticsam.spi.LossAndGradients;
import java.util.ArrayList;
import java.util.List;

/**
 * Forward pass and hand-derived backward pass of the conformance MLP in float64: dense layers
 * z = h·Wᵀ + b, ReLU or tanh between them, mean softmax cross-entropy with label smoothing.
 */
final class MlpMath {
    private final ModelSpec.Mlp spec;
    private final int[] widths;

    MlpMath(ModelSpec.Mlp spec) {
        this.spec = spec;
        this.widths = spec.layers();
    }

    /** Pre-activations z of every layer for the batch (the last ones are the logits). */
    private double[][] forward(List<HostTensor> params, double[] x, int n) {
        int layers = widths.length - 1;
        double[][] z = new double[layers][];
        double[] h = x;
        for (int l = 0; l < layers; l++) {
            int in = widths[l];
            int out = widths[l + 1];
            double[] w = params.get(2 * l).values();
            double[] b = params.get(2 * l + 1).values();
            double[] zl = new double[n * out];
            for (int i = 0; i < n; i++) {
                for (int o = 0; o < out; o++) {
                    double s = b[o];
                    for (int k = 0; k < in; k++) {
                        s += h[i * in + k] * w[o * in + k];
                    }
                    zl[i * out + o] = s;
                }
            }
            z[l] = zl;
            h = l + 1 < layers ? activate(zl) : zl;
        }
        return z;
    }

    private double[] activate(double[] z) {
        double[] h = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            h[i] = spec.activation() == Activation.RELU ? Math.max(0, z[i]) : Math.tanh(z[i]);
        }
        return h;
    }

    /** Per example: log-softmax of the logits, in place. */
    private double[] logSoftmax(double[] logits, int n) {
        int c = spec.classes();
        double[] out = new double[logits.length];
        for (int i = 0; i < n; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < c; k++) {
                max = Math.max(max, logits[i * c + k]);
            }
            double sum = 0;
            for (int k = 0; k < c; k++) {
                sum += Math.exp(logits[i * c + k] - max);
            }
            double lse = max + Math.log(sum);
            for (int k = 0; k < c; k++) {
                out[i * c + k] = logits[i * c + k] - lse;
            }
        }
        return out;
    }

    private double target(int label, int k) {
        double s = spec.labelSmoothing();
        return (k == label ? 1 - s : 0) + s / spec.classes();
    }

    LossAndGradients<HostTensor> lossAndGradients(List<HostTensor> params, Batch batch) {
        int n = batch.size();
        int c = spec.classes();
        int layers = widths.length - 1;
        double[] x = batch.features().values();
        double[][] z = forward(params, x, n);
        double[] logp = logSoftmax(z[layers - 1], n);
        double loss = 0;
        double[] dz = new double[n * c];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < c; k++) {
                double t = target(batch.labels()[i], k);
                loss -= t * logp[i * c + k];
                // d/dz of the mean loss: (softmax − t)/n, as Σt = 1.
                dz[i * c + k] = (Math.exp(logp[i * c + k]) - t) / n;
            }
        }
        loss /= n;

        HostTensor[] grads = new HostTensor[2 * layers];
        for (int l = layers - 1; l >= 0; l--) {
            int in = widths[l];
            int out = widths[l + 1];
            double[] h = l == 0 ? x : activate(z[l - 1]);
            double[] gw = new double[out * in];
            double[] gb = new double[out];
            for (int i = 0; i < n; i++) {
                for (int o = 0; o < out; o++) {
                    double d = dz[i * out + o];
                    gb[o] += d;
                    for (int k = 0; k < in; k++) {
                        gw[o * in + k] += d * h[i * in + k];
                    }
                }
            }
            grads[2 * l] = HostTensor.of(gw, out, in);
            grads[2 * l + 1] = HostTensor.of(gb, out);
            if (l > 0) {
                double[] w = params.get(2 * l).values();
                double[] zPrev = z[l - 1];
                double[] dPrev = new double[n * in];
                for (int i = 0; i < n; i++) {
                    for (int k = 0; k < in; k++) {
                        double s = 0;
                        for (int o = 0; o < out; o++) {
                            s += dz[i * out + o] * w[o * in + k];
                        }
                        double zz = zPrev[i * in + k];
                        double slope = spec.activation() == Activation.RELU ? (zz > 0 ? 1 : 0)
                                : 1 - Math.tanh(zz) * Math.tanh(zz);
                        dPrev[i * in + k] = s * slope;
                    }
                }
                dz = dPrev;
            }
        }
        return new LossAndGradients<>(HostTensor.scalar(loss), List.of(grads));
    }

    /** Mean loss and correct argmax predictions. */
    double[] lossAndCorrect(List<HostTensor> params, Batch batch) {
        int n = batch.size();
        int c = spec.classes();
        double[] logits = forward(params, batch.features().values(), n)[widths.length - 2];
        double[] logp = logSoftmax(logits, n);
        double loss = 0;
        int correct = 0;
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int k = 0; k < c; k++) {
                loss -= target(batch.labels()[i], k) * logp[i * c + k];
                if (logits[i * c + k] > logits[i * c + best]) {
                    best = k;
                }
            }
            correct += best == batch.labels()[i] ? 1 : 0;
        }
        return new double[] {loss / n, correct};
    }

    static List<HostTensor> copies(List<HostTensor> tensors) {
        List<HostTensor> out = new ArrayList<>(tensors.size());
        for (HostTensor t : tensors) {
            out.add(t.copy());
        }
        return out;
    }
}
