package io.github.agnosticsam.diagnostics;

/**
 * Eigenvalues and eigenvectors of the small symmetric tridiagonal matrices of {@link
 * Curvature#largestEigenvalues} (diagonal {@code alpha[0..m)}, off-diagonal {@code beta[0..m−1)}), by
 * cyclic Jacobi rotations on the dense matrix: m is at most {@code maxIterations}, so m³ is nothing
 * beside one gradient evaluation, and Jacobi is accurate to the last bits for every eigenvalue.
 */
final class Tridiagonal {
    private Tridiagonal() {
    }

    /** The eigenvalues, ascending. */
    static double[] eigenvalues(double[] alpha, double[] beta, int m) {
        return eigen(alpha, beta, m, null);
    }

    /**
     * The eigenvalues, ascending; when {@code vectors} is given (length m), {@code vectors[i]} is set to
     * the unit eigenvector of eigenvalue i.
     */
    static double[] eigen(double[] alpha, double[] beta, int m, double[][] vectors) {
        double[][] a = new double[m][m];
        double[][] v = new double[m][m];
        for (int i = 0; i < m; i++) {
            a[i][i] = alpha[i];
            v[i][i] = 1;
            if (i + 1 < m) {
                a[i][i + 1] = a[i + 1][i] = beta[i];
            }
        }
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0;
            double all = 0;
            for (int p = 0; p < m; p++) {
                for (int q = 0; q < m; q++) {
                    all += a[p][q] * a[p][q];
                    if (p != q) {
                        off += a[p][q] * a[p][q];
                    }
                }
            }
            if (off <= 1e-30 * all) {
                break;
            }
            for (int p = 0; p < m - 1; p++) {
                for (int q = p + 1; q < m; q++) {
                    if (a[p][q] == 0) {
                        continue;
                    }
                    double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
                    double t = Math.signum(theta == 0 ? 1 : theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    double c = 1 / Math.sqrt(t * t + 1);
                    double s = t * c;
                    for (int k = 0; k < m; k++) { // columns p and q
                        double akp = a[k][p];
                        double akq = a[k][q];
                        a[k][p] = c * akp - s * akq;
                        a[k][q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < m; k++) { // rows p and q
                        double apk = a[p][k];
                        double aqk = a[q][k];
                        a[p][k] = c * apk - s * aqk;
                        a[q][k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < m; k++) {
                        double vkp = v[k][p];
                        double vkq = v[k][q];
                        v[k][p] = c * vkp - s * vkq;
                        v[k][q] = s * vkp + c * vkq;
                    }
                }
            }
        }
        Integer[] order = new Integer[m];
        for (int i = 0; i < m; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (x, y) -> Double.compare(a[x][x], a[y][y]));
        double[] values = new double[m];
        for (int i = 0; i < m; i++) {
            values[i] = a[order[i]][order[i]];
            if (vectors != null) {
                double[] u = new double[m];
                for (int k = 0; k < m; k++) {
                    u[k] = v[k][order[i]];
                }
                vectors[i] = u;
            }
        }
        return values;
    }
}
