package io.github.agnosticsam.conformance.reference;

import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * The residual CNN of {@link ModelSpec.ResNet} (docs/models.md) in float64, as PyTorch computes it:
 * convolutions without bias (3×3 padding 1, or the 1×1 projection, with the block's stride),
 * BatchNorm2d per channel over the batch and the pixels, ReLU, the residual add, global average
 * pool and the dense layer. Activations are [n, channels, side, side] row-major. Parameters and
 * running statistics are taken in the description's order.
 */
final class ResNetMath implements HostModel {
    private static final double EPSILON = MlpMath.BN_EPSILON;
    private static final double MOMENTUM = MlpMath.BN_MOMENTUM;

    private final ModelSpec.ResNet spec;
    private final CrossEntropy crossEntropy;

    ResNetMath(ModelSpec.ResNet spec) {
        this.spec = spec;
        this.crossEntropy = new CrossEntropy(spec.classes(), spec.labelSmoothing());
    }

    /** A convolution's input and output, and where its weight is. */
    private record Conv(int weight, double[] input, int channelsIn, int sideIn, int channelsOut, int sideOut,
            int kernel, int stride, int padding) {
    }

    /** One BatchNorm's batch statistics and normalised input, and where its gamma and statistics are. */
    private static final class Norm {
        int gamma;
        int statistic;
        int channels;
        int plane;
        double[] mean;
        double[] squares;
        double[] inverseStd;
        double[] normalised;
    }

    /** One basic block's saved values. */
    private record Block(Conv conv1, Norm bn1, double[] z1, Conv conv2, Norm bn2, Conv projection, Norm bnProjection,
            double[] sum) {
    }

    /** The forward pass, keeping what the backward pass reads. */
    private final class Forward {
        final int n;
        final boolean training;
        final List<HostTensor> params;
        final List<HostTensor> statistics;
        final List<Norm> norms = new ArrayList<>();
        final List<Block> blocks = new ArrayList<>();
        int next;
        Conv stem;
        Norm stemNorm;
        double[] stemZ;
        double[] features; // after the last block, [n, c, side, side]
        double[] pooled; // [n, c]
        double[] logits;

        Forward(List<HostTensor> params, List<HostTensor> statistics, double[] x, int n, boolean training) {
            this.n = n;
            this.training = training;
            this.params = params;
            this.statistics = statistics;
            int side = spec.size();
            stem = conv(x, 1, side, spec.stem(), 3, 1, 1);
            double[] z = output(stem);
            stemNorm = norm(spec.stem(), side * side);
            stemZ = normalise(stemNorm, z);
            double[] h = CnnMath.relu(stemZ);
            int channels = spec.stem();
            int[] widths = spec.widths();
            for (int s = 0; s < widths.length; s++) {
                for (int b = 0; b < spec.blocks(); b++) {
                    int stride = spec.stride(b);
                    int width = widths[s];
                    Conv c1 = conv(h, channels, side, width, 3, stride, 1);
                    int sideOut = c1.sideOut();
                    Norm n1 = norm(width, sideOut * sideOut);
                    double[] z1 = normalise(n1, output(c1));
                    Conv c2 = conv(CnnMath.relu(z1), width, sideOut, width, 3, 1, 1);
                    Norm n2 = norm(width, sideOut * sideOut);
                    double[] y2 = normalise(n2, output(c2));
                    Conv projection = null;
                    Norm bnProjection = null;
                    double[] shortcut = h;
                    if (spec.projects(s, b)) {
                        projection = conv(h, channels, side, width, 1, stride, 0);
                        bnProjection = norm(width, sideOut * sideOut);
                        shortcut = normalise(bnProjection, output(projection));
                    }
                    double[] sum = new double[y2.length];
                    for (int i = 0; i < sum.length; i++) {
                        sum[i] = y2[i] + shortcut[i];
                    }
                    blocks.add(new Block(c1, n1, z1, c2, n2, projection, bnProjection, sum));
                    h = CnnMath.relu(sum);
                    channels = width;
                    side = sideOut;
                }
            }
            features = h;
            int plane = side * side;
            pooled = new double[n * channels];
            for (int i = 0; i < n * channels; i++) {
                double total = 0;
                for (int p = 0; p < plane; p++) {
                    total += h[i * plane + p];
                }
                pooled[i] = total / plane;
            }
            logits = CnnMath.dense(pooled, n, channels, params.get(next).values(), params.get(next + 1).values(),
                    spec.classes());
        }

        private Conv conv(double[] input, int channelsIn, int side, int channelsOut, int kernel, int stride,
                int padding) {
            int sideOut = (side + 2 * padding - kernel) / stride + 1;
            return new Conv(next++, input, channelsIn, side, channelsOut, sideOut, kernel, stride, padding);
        }

        private double[] output(Conv c) {
            return convolve(c, n, params.get(c.weight()).values());
        }

        private Norm norm(int channels, int plane) {
            Norm norm = new Norm();
            norm.gamma = next;
            next += 2;
            norm.statistic = 2 * norms.size();
            norm.channels = channels;
            norm.plane = plane;
            norms.add(norm);
            return norm;
        }

        /** y = γ·(z − μ)/√(σ² + ε) + β, with the batch's μ and biased σ² in training, the running ones else. */
        private double[] normalise(Norm norm, double[] z) {
            int c = norm.channels;
            int plane = norm.plane;
            norm.mean = new double[c];
            norm.squares = new double[c];
            norm.inverseStd = new double[c];
            norm.normalised = new double[z.length];
            double[] gamma = params.get(norm.gamma).values();
            double[] beta = params.get(norm.gamma + 1).values();
            double count = (double) n * plane;
            double[] y = new double[z.length];
            for (int o = 0; o < c; o++) {
                double variance;
                if (training) {
                    double sum = 0;
                    for (int i = 0; i < n; i++) {
                        for (int p = 0; p < plane; p++) {
                            sum += z[(i * c + o) * plane + p];
                        }
                    }
                    norm.mean[o] = sum / count;
                    double squares = 0;
                    for (int i = 0; i < n; i++) {
                        for (int p = 0; p < plane; p++) {
                            double d = z[(i * c + o) * plane + p] - norm.mean[o];
                            squares += d * d;
                        }
                    }
                    norm.squares[o] = squares;
                    variance = squares / count;
                } else {
                    norm.mean[o] = statistics.get(norm.statistic).values()[o];
                    variance = statistics.get(norm.statistic + 1).values()[o];
                }
                norm.inverseStd[o] = 1 / Math.sqrt(variance + EPSILON);
                for (int i = 0; i < n; i++) {
                    for (int p = 0; p < plane; p++) {
                        int k = (i * c + o) * plane + p;
                        double xhat = (z[k] - norm.mean[o]) * norm.inverseStd[o];
                        norm.normalised[k] = xhat;
                        y[k] = gamma[o] * xhat + beta[o];
                    }
                }
            }
            return y;
        }
    }

    @Override
    public Gradients lossAndGradients(List<HostTensor> params, List<HostTensor> statistics, Batch batch,
            boolean updateStatistics) {
        int n = batch.size();
        if (n < 2 && spec.sideAfter(spec.widths().length - 1) == 1) {
            throw new IllegalArgumentException("BatchNorm in training mode needs more than one value per channel, got "
                    + "a batch of " + n + " (" + spec + ")");
        }
        Forward f = new Forward(params, statistics, batch.features().values(), n, true);
        int classes = spec.classes();
        double[] dLogits = new double[n * classes];
        double loss = crossEntropy.loss(f.logits, batch.labels(), dLogits);
        double[][] grads = new double[params.size()][];
        for (int i = 0; i < grads.length; i++) {
            grads[i] = new double[params.get(i).values().length];
        }

        // Dense: ∂W = ∂logitsᵀ·pooled, ∂b = Σ ∂logits, ∂pooled = ∂logits·W.
        int fc = f.next;
        int channels = f.pooled.length / n;
        double[] w = params.get(fc).values();
        double[] dPooled = new double[f.pooled.length];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < classes; k++) {
                double d = dLogits[i * classes + k];
                grads[fc + 1][k] += d;
                for (int j = 0; j < channels; j++) {
                    grads[fc][k * channels + j] += d * f.pooled[i * channels + j];
                    dPooled[i * channels + j] += d * w[k * channels + j];
                }
            }
        }
        int plane = f.features.length / (n * channels);
        double[] dH = new double[f.features.length];
        for (int i = 0; i < n * channels; i++) {
            for (int p = 0; p < plane; p++) {
                dH[i * plane + p] = dPooled[i] / plane;
            }
        }

        for (int b = f.blocks.size() - 1; b >= 0; b--) {
            Block block = f.blocks.get(b);
            double[] dSum = CnnMath.reluBackward(dH, block.sum());
            double[] dInput = new double[block.conv1().input().length];
            double[] dZ2 = normaliseBackward(block.bn2(), dSum, n, params, grads);
            double[] dA1 = new double[block.conv2().input().length];
            convolveBackward(block.conv2(), n, params, dZ2, grads, dA1);
            double[] dZ1 = normaliseBackward(block.bn1(), CnnMath.reluBackward(dA1, block.z1()), n, params, grads);
            convolveBackward(block.conv1(), n, params, dZ1, grads, dInput);
            if (block.projection() != null) {
                double[] dZs = normaliseBackward(block.bnProjection(), dSum, n, params, grads);
                convolveBackward(block.projection(), n, params, dZs, grads, dInput);
            } else {
                for (int i = 0; i < dInput.length; i++) {
                    dInput[i] += dSum[i];
                }
            }
            dH = dInput;
        }
        double[] dStem = normaliseBackward(f.stemNorm, CnnMath.reluBackward(dH, f.stemZ), n, params, grads);
        convolveBackward(f.stem, n, params, dStem, grads, null);

        List<HostTensor> gradients = new ArrayList<>();
        for (int i = 0; i < grads.length; i++) {
            gradients.add(HostTensor.of(grads[i], params.get(i).shape()));
        }
        return new Gradients(loss, gradients, updateStatistics ? nextStatistics(f, statistics, n) : List.of());
    }

    @Override
    public double[] logits(List<HostTensor> params, List<HostTensor> statistics, Batch batch) {
        return new Forward(params, statistics, batch.features().values(), batch.size(), false).logits;
    }

    /** Momentum 0.1: the batch mean, and the unbiased batch variance (over n·pixels values). */
    private static List<HostTensor> nextStatistics(Forward f, List<HostTensor> statistics, int n) {
        List<HostTensor> next = new ArrayList<>();
        for (Norm norm : f.norms) {
            double[] mean = statistics.get(norm.statistic).values();
            double[] var = statistics.get(norm.statistic + 1).values();
            double count = (double) n * norm.plane;
            double[] nextMean = new double[norm.channels];
            double[] nextVar = new double[norm.channels];
            for (int o = 0; o < norm.channels; o++) {
                nextMean[o] = MOMENTUM * norm.mean[o] + (1 - MOMENTUM) * mean[o];
                nextVar[o] = MOMENTUM * (norm.squares[o] / (count - 1)) + (1 - MOMENTUM) * var[o];
            }
            next.add(HostTensor.of(nextMean, norm.channels));
            next.add(HostTensor.of(nextVar, norm.channels));
        }
        return next;
    }

    /**
     * BatchNorm's backward pass in training mode (as MlpMath's, over the batch and the pixels):
     * ∂L/∂z = s·(g − mean(g) − x̂·mean(g·x̂)) with g = γ·∂L/∂y; adds ∂L/∂γ = Σ ∂L/∂y·x̂ and
     * ∂L/∂β = Σ ∂L/∂y into {@code grads}.
     */
    private static double[] normaliseBackward(Norm norm, double[] dy, int n, List<HostTensor> params,
            double[][] grads) {
        int c = norm.channels;
        int plane = norm.plane;
        double count = (double) n * plane;
        double[] gamma = params.get(norm.gamma).values();
        double[] dz = new double[dy.length];
        for (int o = 0; o < c; o++) {
            double sumG = 0;
            double sumGx = 0;
            for (int i = 0; i < n; i++) {
                for (int p = 0; p < plane; p++) {
                    int k = (i * c + o) * plane + p;
                    grads[norm.gamma][o] += dy[k] * norm.normalised[k];
                    grads[norm.gamma + 1][o] += dy[k];
                    sumG += dy[k] * gamma[o];
                    sumGx += dy[k] * gamma[o] * norm.normalised[k];
                }
            }
            double meanG = sumG / count;
            double meanGx = sumGx / count;
            for (int i = 0; i < n; i++) {
                for (int p = 0; p < plane; p++) {
                    int k = (i * c + o) * plane + p;
                    dz[k] = norm.inverseStd[o] * (dy[k] * gamma[o] - meanG - norm.normalised[k] * meanGx);
                }
            }
        }
        return dz;
    }

    /** Torch's Conv2d without bias: out[o, y, x] = Σ W[o, c, u, v]·in[c, y·stride + u − pad, x·stride + v − pad]. */
    private static double[] convolve(Conv conv, int n, double[] w) {
        double[] in = conv.input();
        double[] out = new double[n * conv.channelsOut() * conv.sideOut() * conv.sideOut()];
        forEachTap(conv, n, (o, x, wi) -> out[o] += w[wi] * in[x]);
        return out;
    }

    /** The backward pass of {@link #convolve}: adds ∂W into {@code grads} and, unless null, ∂in into {@code dIn}. */
    private static void convolveBackward(Conv conv, int n, List<HostTensor> params, double[] dOut, double[][] grads,
            double[] dIn) {
        double[] in = conv.input();
        double[] w = params.get(conv.weight()).values();
        double[] dw = grads[conv.weight()];
        forEachTap(conv, n, (o, x, wi) -> {
            dw[wi] += dOut[o] * in[x];
            if (dIn != null) {
                dIn[x] += dOut[o] * w[wi];
            }
        });
    }

    /** One product of a convolution: output element, input element and weight, as flat indices. */
    @FunctionalInterface
    private interface Tap {
        void at(int output, int input, int weight);
    }

    /** Every product of the convolution once: the one home of its index rule (stride, zero padding). */
    private static void forEachTap(Conv conv, int n, Tap tap) {
        int k = conv.kernel();
        int sideIn = conv.sideIn();
        int sideOut = conv.sideOut();
        int cIn = conv.channelsIn();
        int cOut = conv.channelsOut();
        for (int i = 0; i < n; i++) {
            for (int o = 0; o < cOut; o++) {
                int outBase = (i * cOut + o) * sideOut * sideOut;
                for (int c = 0; c < cIn; c++) {
                    int inBase = (i * cIn + c) * sideIn * sideIn;
                    for (int u = 0; u < k; u++) {
                        for (int v = 0; v < k; v++) {
                            int wi = ((o * cIn + c) * k + u) * k + v;
                            for (int y = 0; y < sideOut; y++) {
                                int row = y * conv.stride() + u - conv.padding();
                                if (row < 0 || row >= sideIn) {
                                    continue;
                                }
                                for (int x = 0; x < sideOut; x++) {
                                    int col = x * conv.stride() + v - conv.padding();
                                    if (col >= 0 && col < sideIn) {
                                        tap.at(outBase + y * sideOut + x, inBase + row * sideIn + col, wi);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
