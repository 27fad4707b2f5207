package io.github.agnosticsam.engine.tensorflow;

import io.github.agnosticsam.Activation;
import io.github.agnosticsam.Batch;
import io.github.agnosticsam.HostTensor;
import io.github.agnosticsam.ModelSpec;
import java.util.List;

/**
 * The standard models' forward pass in double on the host, from the values an engine holds: what
 * the engine tests check BatchNorm's statistics, evaluation and the CNN's layout against.
 */
final class HostForward {
    static final double EPSILON = 1e-5;

    private HostForward() {
    }

    /**
     * Logits of the mlp. With {@code statistics} null BatchNorm uses the batch's mean and biased
     * variance (training mode), else the given running ones (evaluation). {@code normInputs}, when
     * not null, receives each BatchNorm layer's input.
     */
    static double[][] mlp(ModelSpec.Mlp spec, List<HostTensor> p, List<HostTensor> statistics, Batch batch,
            List<double[][]> normInputs) {
        double[][] h = rows(batch);
        int[] layers = spec.layers();
        int k = 0;
        int s = 0;
        for (int l = 0; l + 1 < layers.length; l++) {
            boolean hidden = l + 2 < layers.length;
            boolean normalised = hidden && spec.batchNorm();
            HostTensor w = p.get(k++);
            double[][] z = dense(h, w, normalised ? null : p.get(k++));
            if (normalised) {
                if (normInputs != null) {
                    normInputs.add(z);
                }
                double[] mean = statistics == null ? mean(z) : statistics.get(2 * s).values();
                double[] var = statistics == null ? variance(z, 0) : statistics.get(2 * s + 1).values();
                z = normalise(z, mean, var, p.get(k++).values(), p.get(k++).values());
                s++;
            }
            if (hidden) {
                for (double[] row : z) {
                    for (int j = 0; j < row.length; j++) {
                        row[j] = spec.activation() == Activation.RELU ? Math.max(0, row[j]) : Math.tanh(row[j]);
                    }
                }
            }
            h = z;
        }
        return h;
    }

    /** Logits of the cnn: conv 5×5 padding 2, ReLU, max-pool 2, twice, then flatten in (C, H, W) order. */
    static double[][] cnn(ModelSpec.Cnn spec, List<HostTensor> p, Batch batch) {
        int n = batch.size();
        int size = spec.size();
        double[][] logits = new double[n][];
        for (int i = 0; i < n; i++) {
            double[][][] image = new double[1][size][size];
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    image[0][y][x] = batch.features().values()[(i * size + y) * size + x];
                }
            }
            double[][][] h = pool(conv(image, p.get(0), p.get(1)));
            h = pool(conv(h, p.get(2), p.get(3)));
            double[][] flat = new double[1][spec.flattened()];
            int f = 0;
            for (double[][] channel : h) {
                for (double[] row : channel) {
                    for (double v : row) {
                        flat[0][f++] = v;
                    }
                }
            }
            logits[i] = dense(flat, p.get(4), p.get(5))[0];
        }
        return logits;
    }

    /** Mean softmax cross-entropy. */
    static double loss(double[][] logits, int[] labels) {
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (double z : logits[i]) {
                max = Math.max(max, z);
            }
            double exp = 0;
            for (double z : logits[i]) {
                exp += Math.exp(z - max);
            }
            sum += max + Math.log(exp) - logits[i][labels[i]];
        }
        return sum / logits.length;
    }

    static double[] mean(double[][] z) {
        double[] m = new double[z[0].length];
        for (double[] row : z) {
            for (int j = 0; j < m.length; j++) {
                m[j] += row[j] / z.length;
            }
        }
        return m;
    }

    /** Variance over the batch with {@code correction} 0 (biased) or 1 (unbiased). */
    static double[] variance(double[][] z, int correction) {
        double[] m = mean(z);
        double[] v = new double[m.length];
        for (double[] row : z) {
            for (int j = 0; j < m.length; j++) {
                v[j] += (row[j] - m[j]) * (row[j] - m[j]) / (z.length - correction);
            }
        }
        return v;
    }

    private static double[][] rows(Batch batch) {
        int n = batch.size();
        int width = batch.features().size() / n;
        double[][] x = new double[n][width];
        for (int i = 0; i < n; i++) {
            System.arraycopy(batch.features().values(), i * width, x[i], 0, width);
        }
        return x;
    }

    private static double[][] dense(double[][] h, HostTensor w, HostTensor b) {
        int out = w.shape()[0];
        int in = w.shape()[1];
        double[][] z = new double[h.length][out];
        for (int i = 0; i < h.length; i++) {
            for (int o = 0; o < out; o++) {
                double sum = b == null ? 0 : b.values()[o];
                for (int j = 0; j < in; j++) {
                    sum += h[i][j] * w.values()[o * in + j];
                }
                z[i][o] = sum;
            }
        }
        return z;
    }

    private static double[][] normalise(double[][] z, double[] mean, double[] var, double[] gamma, double[] beta) {
        double[][] out = new double[z.length][mean.length];
        for (int i = 0; i < z.length; i++) {
            for (int j = 0; j < mean.length; j++) {
                out[i][j] = gamma[j] * (z[i][j] - mean[j]) / Math.sqrt(var[j] + EPSILON) + beta[j];
            }
        }
        return out;
    }

    /** Conv 5×5 with padding 2 and bias, then ReLU; weights [out, in, 5, 5]. */
    private static double[][][] conv(double[][][] x, HostTensor w, HostTensor b) {
        int out = w.shape()[0];
        int in = w.shape()[1];
        int size = x[0].length;
        double[][][] y = new double[out][size][size];
        for (int o = 0; o < out; o++) {
            for (int r = 0; r < size; r++) {
                for (int c = 0; c < size; c++) {
                    double sum = b.values()[o];
                    for (int ci = 0; ci < in; ci++) {
                        for (int kr = 0; kr < 5; kr++) {
                            for (int kc = 0; kc < 5; kc++) {
                                int rr = r + kr - 2;
                                int cc = c + kc - 2;
                                if (rr >= 0 && rr < size && cc >= 0 && cc < size) {
                                    sum += x[ci][rr][cc] * w.values()[((o * in + ci) * 5 + kr) * 5 + kc];
                                }
                            }
                        }
                    }
                    y[o][r][c] = Math.max(0, sum);
                }
            }
        }
        return y;
    }

    private static double[][][] pool(double[][][] x) {
        int half = x[0].length / 2;
        double[][][] y = new double[x.length][half][half];
        for (int ch = 0; ch < x.length; ch++) {
            for (int r = 0; r < half; r++) {
                for (int c = 0; c < half; c++) {
                    y[ch][r][c] = Math.max(Math.max(x[ch][2 * r][2 * c], x[ch][2 * r][2 * c + 1]),
                            Math.max(x[ch][2 * r + 1][2 * c], x[ch][2 * r + 1][2 * c + 1]));
                }
            }
        }
        return y;
    }
}
