package io.github.agnosticsam.conformance.reference;

import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * The Hessian of a model's training loss computed apart from the diagnostics: every column by a
 * central difference of the reference math's hand-derived gradients ({@link HostModel}, training
 * mode, running statistics untouched) along one coordinate at a time, with a fixed small step,
 * then symmetrised; its eigenvalues by the cyclic Jacobi method. The loss over several batches is
 * their size-weighted mean, as the diagnostics define it.
 */
final class ExactHessian {
    /** Coordinate step: float64 truncation ~1e-10·|third derivative|, rounding ~1e-11·|gradient|. */
    static final double STEP = 1e-5;

    private ExactHessian() {
    }

    /** The size-weighted mean gradient over the batches at θ (flat, parameter order). */
    static double[] gradient(ModelSpec spec, double[] theta, List<Batch> batches) {
        return lossAndGradient(spec, theta, batches)[1];
    }

    static double loss(ModelSpec spec, double[] theta, List<Batch> batches) {
        return lossAndGradient(spec, theta, batches)[0][0];
    }

    private static double[][] lossAndGradient(ModelSpec spec, double[] theta, List<Batch> batches) {
        HostModel model = HostModel.of(spec);
        double[] g = new double[theta.length];
        double loss = 0;
        int n = 0;
        for (Batch b : batches) {
            HostModel.Gradients r = model.lossAndGradients(tensors(spec, theta), spec.initialStatistics(), b, false);
            double[] flat = flat(r.gradients());
            for (int i = 0; i < g.length; i++) {
                g[i] += b.size() * flat[i];
            }
            loss += b.size() * r.loss();
            n += b.size();
        }
        for (int i = 0; i < g.length; i++) {
            g[i] /= n;
        }
        return new double[][] {{loss / n}, g};
    }

    /** The symmetrised finite-difference Hessian; {@code asymmetry[0]} receives max |H − Hᵀ| before. */
    static double[][] of(ModelSpec spec, double[] theta, List<Batch> batches, double[] asymmetry) {
        int d = theta.length;
        double[][] h = new double[d][d];
        for (int j = 0; j < d; j++) {
            double[] plus = theta.clone();
            double[] minus = theta.clone();
            plus[j] += STEP;
            minus[j] -= STEP;
            double[] gp = gradient(spec, plus, batches);
            double[] gm = gradient(spec, minus, batches);
            for (int i = 0; i < d; i++) {
                h[i][j] = (gp[i] - gm[i]) / (2 * STEP);
            }
        }
        double worst = 0;
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < i; j++) {
                worst = Math.max(worst, Math.abs(h[i][j] - h[j][i]));
                double mean = (h[i][j] + h[j][i]) / 2;
                h[i][j] = mean;
                h[j][i] = mean;
            }
        }
        if (asymmetry != null) {
            asymmetry[0] = worst;
        }
        return h;
    }

    /** Eigenvalues of a symmetric matrix by cyclic Jacobi rotations, in decreasing magnitude. */
    static double[] eigenvalues(double[][] matrix) {
        int n = matrix.length;
        double[][] a = new double[n][];
        for (int i = 0; i < n; i++) {
            a[i] = matrix[i].clone();
        }
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0;
            double all = 0;
            for (int p = 0; p < n; p++) {
                for (int q = 0; q < n; q++) {
                    all += a[p][q] * a[p][q];
                    off += p == q ? 0 : a[p][q] * a[p][q];
                }
            }
            if (off <= 1e-30 * all) {
                break;
            }
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    if (a[p][q] == 0) {
                        continue;
                    }
                    // The rotation that zeroes a[p][q] (Numerical Recipes' form): A ← Pᵀ·A·P.
                    double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) {
                        t = 1;
                    }
                    double c = 1 / Math.sqrt(t * t + 1);
                    double s = t * c;
                    for (int k = 0; k < n; k++) {
                        double kp = a[k][p];
                        double kq = a[k][q];
                        a[k][p] = c * kp - s * kq;
                        a[k][q] = s * kp + c * kq;
                    }
                    for (int k = 0; k < n; k++) {
                        double pk = a[p][k];
                        double qk = a[q][k];
                        a[p][k] = c * pk - s * qk;
                        a[q][k] = s * pk + c * qk;
                    }
                }
            }
        }
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = a[i][i];
        }
        return java.util.Arrays.stream(out).boxed().sorted((x, y) -> Double.compare(Math.abs(y), Math.abs(x)))
                .mapToDouble(Double::doubleValue).toArray();
    }

    static double trace(double[][] h) {
        double s = 0;
        for (int i = 0; i < h.length; i++) {
            s += h[i][i];
        }
        return s;
    }

    static double[] times(double[][] m, double[] v) {
        double[] out = new double[m.length];
        for (int i = 0; i < m.length; i++) {
            out[i] = dot(m[i], v);
        }
        return out;
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    static double norm(double[] v) {
        return Math.sqrt(dot(v, v));
    }

    static double[] flat(List<HostTensor> tensors) {
        int d = tensors.stream().mapToInt(HostTensor::size).sum();
        double[] out = new double[d];
        int at = 0;
        for (HostTensor t : tensors) {
            System.arraycopy(t.values(), 0, out, at, t.size());
            at += t.size();
        }
        return out;
    }

    static List<HostTensor> tensors(ModelSpec spec, double[] flat) {
        List<HostTensor> out = new ArrayList<>();
        int at = 0;
        for (int[] shape : spec.parameterShapes()) {
            HostTensor t = HostTensor.zeros(shape);
            System.arraycopy(flat, at, t.values(), 0, t.size());
            at += t.size();
            out.add(t);
        }
        return out;
    }
}
