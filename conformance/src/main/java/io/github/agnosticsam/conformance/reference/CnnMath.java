package io.github.agnosticsam.conformance.reference;

import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import java.util.List;

/**
 * The CNN of {@link ModelSpec.Cnn} in float64, as PyTorch computes it: conv 5×5 (padding 2, stride
 * 1, with bias) → ReLU → max-pool 2×2 stride 2 → conv 5×5 → ReLU → max-pool → flatten in (C, H, W)
 * order → dense. Activations are [n, channels, height, width] row-major. It has no running
 * statistics, so training and evaluation mode agree.
 */
final class CnnMath implements HostModel {
    private static final int KERNEL = 5;
    private static final int PADDING = 2;

    private final ModelSpec.Cnn spec;
    private final CrossEntropy crossEntropy;

    CnnMath(ModelSpec.Cnn spec) {
        this.spec = spec;
        this.crossEntropy = new CrossEntropy(spec.classes(), spec.labelSmoothing());
    }

    /** The forward pass, keeping what the backward pass reads. */
    private final class Forward {
        final int n;
        final double[] input;
        final double[] conv1; // before ReLU, [n, c₁, s, s]
        final int[] pool1; // per pooled element, the index of the element it took
        final double[] pooled1; // [n, c₁, s/2, s/2]
        final double[] conv2; // before ReLU, [n, c₂, s/2, s/2]
        final int[] pool2;
        final double[] pooled2; // [n, c₂, s/4, s/4], which is also the flattened [n, c₂·(s/4)²]
        final double[] logits;

        Forward(List<HostTensor> params, double[] x, int n) {
            int s = spec.size();
            this.n = n;
            this.input = x;
            conv1 = convolve(x, n, 1, s, params.get(0).values(), params.get(1).values(), spec.channels1());
            pool1 = new int[n * spec.channels1() * (s / 2) * (s / 2)];
            pooled1 = maxPool(relu(conv1), n * spec.channels1(), s, pool1);
            conv2 = convolve(pooled1, n, spec.channels1(), s / 2, params.get(2).values(), params.get(3).values(),
                    spec.channels2());
            pool2 = new int[n * spec.channels2() * (s / 4) * (s / 4)];
            pooled2 = maxPool(relu(conv2), n * spec.channels2(), s / 2, pool2);
            logits = dense(pooled2, n, spec.flattened(), params.get(4).values(), params.get(5).values(), spec.classes());
        }
    }

    @Override
    public Gradients lossAndGradients(List<HostTensor> params, List<HostTensor> statistics, Batch batch,
            boolean updateStatistics) {
        int s = spec.size();
        int c1 = spec.channels1();
        int c2 = spec.channels2();
        int flat = spec.flattened();
        int classes = spec.classes();
        Forward f = new Forward(params, batch.features().values(), batch.size());
        int n = f.n;
        double[] dLogits = new double[n * classes];
        double loss = crossEntropy.loss(f.logits, batch.labels(), dLogits);

        // Dense layer: ∂W = ∂logitsᵀ·h, ∂b = Σ ∂logits, ∂h = ∂logits·W.
        double[] wd = params.get(4).values();
        double[] dWd = new double[classes * flat];
        double[] dbd = new double[classes];
        double[] dPooled2 = new double[n * flat];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < classes; k++) {
                double d = dLogits[i * classes + k];
                dbd[k] += d;
                for (int j = 0; j < flat; j++) {
                    dWd[k * flat + j] += d * f.pooled2[i * flat + j];
                    dPooled2[i * flat + j] += d * wd[k * flat + j];
                }
            }
        }

        double[] dConv2 = reluBackward(unpool(dPooled2, f.pool2, f.conv2.length), f.conv2);
        double[] dW2 = new double[c2 * c1 * KERNEL * KERNEL];
        double[] db2 = new double[c2];
        double[] dPooled1 = new double[f.pooled1.length];
        convolveBackward(f.pooled1, n, c1, s / 2, params.get(2).values(), c2, dConv2, dW2, db2, dPooled1);

        double[] dConv1 = reluBackward(unpool(dPooled1, f.pool1, f.conv1.length), f.conv1);
        double[] dW1 = new double[c1 * KERNEL * KERNEL];
        double[] db1 = new double[c1];
        convolveBackward(f.input, n, 1, s, params.get(0).values(), c1, dConv1, dW1, db1, null);

        List<HostTensor> grads = List.of(HostTensor.of(dW1, c1, 1, KERNEL, KERNEL), HostTensor.of(db1, c1),
                HostTensor.of(dW2, c2, c1, KERNEL, KERNEL), HostTensor.of(db2, c2), HostTensor.of(dWd, classes, flat),
                HostTensor.of(dbd, classes));
        return new Gradients(loss, grads, List.of());
    }

    @Override
    public double[] logits(List<HostTensor> params, List<HostTensor> statistics, Batch batch) {
        return new Forward(params, batch.features().values(), batch.size()).logits;
    }

    /**
     * Torch's Conv2d (a cross-correlation) with 5×5 kernels, zero padding 2 and stride 1, so the
     * output has the input's size: out[o, y, x] = b[o] + Σ W[o, c, u, v]·in[c, y + u − 2, x + v − 2].
     */
    private static double[] convolve(double[] in, int n, int channelsIn, int size, double[] w, double[] b,
            int channelsOut) {
        int plane = size * size;
        double[] out = new double[n * channelsOut * plane];
        for (int i = 0; i < n; i++) {
            for (int o = 0; o < channelsOut; o++) {
                int outBase = (i * channelsOut + o) * plane;
                java.util.Arrays.fill(out, outBase, outBase + plane, b[o]);
                for (int c = 0; c < channelsIn; c++) {
                    int inBase = (i * channelsIn + c) * plane;
                    for (int u = 0; u < KERNEL; u++) {
                        for (int v = 0; v < KERNEL; v++) {
                            double weight = w[((o * channelsIn + c) * KERNEL + u) * KERNEL + v];
                            for (int y = Math.max(0, PADDING - u); y < Math.min(size, size + PADDING - u); y++) {
                                int row = inBase + (y + u - PADDING) * size - PADDING + v;
                                for (int x = Math.max(0, PADDING - v); x < Math.min(size, size + PADDING - v); x++) {
                                    out[outBase + y * size + x] += weight * in[row + x];
                                }
                            }
                        }
                    }
                }
            }
        }
        return out;
    }

    /**
     * The backward pass of {@link #convolve}: adds ∂W[o, c, u, v] = Σ ∂out[o, y, x]·in[c, y + u − 2,
     * x + v − 2] and ∂b[o] = Σ ∂out[o, ·, ·] into {@code dw} and {@code db}, and, unless
     * {@code dIn} is null, ∂in[c, y + u − 2, x + v − 2] += ∂out[o, y, x]·W[o, c, u, v].
     */
    private static void convolveBackward(double[] in, int n, int channelsIn, int size, double[] w, int channelsOut,
            double[] dOut, double[] dw, double[] db, double[] dIn) {
        int plane = size * size;
        for (int i = 0; i < n; i++) {
            for (int o = 0; o < channelsOut; o++) {
                int outBase = (i * channelsOut + o) * plane;
                for (int p = 0; p < plane; p++) {
                    db[o] += dOut[outBase + p];
                }
                for (int c = 0; c < channelsIn; c++) {
                    int inBase = (i * channelsIn + c) * plane;
                    for (int u = 0; u < KERNEL; u++) {
                        for (int v = 0; v < KERNEL; v++) {
                            int wi = ((o * channelsIn + c) * KERNEL + u) * KERNEL + v;
                            double weight = w[wi];
                            double sum = 0;
                            for (int y = Math.max(0, PADDING - u); y < Math.min(size, size + PADDING - u); y++) {
                                int row = inBase + (y + u - PADDING) * size - PADDING + v;
                                for (int x = Math.max(0, PADDING - v); x < Math.min(size, size + PADDING - v); x++) {
                                    double d = dOut[outBase + y * size + x];
                                    sum += d * in[row + x];
                                    if (dIn != null) {
                                        dIn[row + x] += d * weight;
                                    }
                                }
                            }
                            dw[wi] += sum;
                        }
                    }
                }
            }
        }
    }

    /** ReLU elementwise (shared with ResNetMath). */
    static double[] relu(double[] z) {
        double[] out = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            out[i] = Math.max(0, z[i]);
        }
        return out;
    }

    /** ∂L/∂z from ∂L/∂relu(z): passes where z > 0, as PyTorch (0 at the kink). */
    static double[] reluBackward(double[] dOut, double[] z) {
        double[] out = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            out[i] = z[i] > 0 ? dOut[i] : 0;
        }
        return out;
    }

    /**
     * Max-pool 2×2 stride 2 of {@code planes} planes of size×size. Writes into {@code taken} the
     * index of the element each output took: the first maximum in row-major window order, or a NaN,
     * exactly as PyTorch's CPU kernel chooses.
     */
    private static double[] maxPool(double[] in, int planes, int size, int[] taken) {
        int half = size / 2;
        double[] out = new double[planes * half * half];
        for (int p = 0; p < planes; p++) {
            for (int y = 0; y < half; y++) {
                for (int x = 0; x < half; x++) {
                    int best = -1;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int u = 0; u < 2; u++) {
                        for (int v = 0; v < 2; v++) {
                            int index = (p * size + 2 * y + u) * size + 2 * x + v;
                            double value = in[index];
                            if (best < 0 || value > max || Double.isNaN(value)) {
                                best = index;
                                max = value;
                            }
                        }
                    }
                    int o = (p * half + y) * half + x;
                    out[o] = max;
                    taken[o] = best;
                }
            }
        }
        return out;
    }

    /** The backward pass of {@link #maxPool}: each output's gradient goes to the element it took. */
    private static double[] unpool(double[] dOut, int[] taken, int inputLength) {
        double[] dIn = new double[inputLength];
        for (int o = 0; o < dOut.length; o++) {
            dIn[taken[o]] += dOut[o];
        }
        return dIn;
    }

    /** out = h·Wᵀ + b, h of shape [n, in] and W of [out, in] (shared with ResNetMath). */
    static double[] dense(double[] h, int n, int in, double[] w, double[] b, int out) {
        double[] z = new double[n * out];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < out; k++) {
                double s = b[k];
                for (int j = 0; j < in; j++) {
                    s += h[i * in + j] * w[k * in + j];
                }
                z[i * out + k] = s;
            }
        }
        return z;
    }
}
