package io.github.agnosticsam.diagnostics;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An eigenvalue of the Hessian, found by Lanczos ({@link Curvature#largestEigenvalues}, {@link
 * Curvature#lambdaMax}) or by power iteration ({@link Curvature#topEigenvalues}).
 *
 * @param value Lanczos: a Ritz value (an eigenvalue of QᵀHQ); power iteration: the Rayleigh quotient
 *     vᵀHv of the last iterate (after deflation: of largest magnitude among those not found before)
 * @param vector the unit eigenvector estimate, every parameter element in parameter order (Lanczos:
 *     the Ritz vector; power iteration: the iterate before the last product)
 * @param residual ‖Hv − value·v‖ (Lanczos: measured at the Ritz vector with one more product; power
 *     iteration: from the last product, after deflation): for a symmetric matrix some eigenvalue lies
 *     within it of {@code value} — a bound on the iteration's error, not on the finite differences',
 *     and it does not say which eigenvalue
 * @param iterations Hessian-vector products made (Lanczos: for all k together; power iteration: for
 *     this eigenvalue)
 * @param converged whether the stopping rule was met before {@link CurvatureOptions#maxIterations()}
 * @param gradientEvaluations what it cost: 2 per product, each over the whole set of batches (Lanczos:
 *     the whole run's, shared by the k, with the k residuals' products)
 */
public record Eigenvalue(double value, double[] vector, double residual, int iterations, boolean converged,
        long gradientEvaluations) {

    public Eigenvalue {
        vector = vector.clone();
    }

    @Override
    public double[] vector() {
        return vector.clone();
    }

    /** JSON values, the vector left out. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("value", value);
        m.put("residual", residual);
        m.put("iterations", iterations);
        m.put("converged", converged);
        m.put("gradientEvaluations", gradientEvaluations);
        return m;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Eigenvalue e && Double.compare(value, e.value) == 0 && Arrays.equals(vector, e.vector)
                && Double.compare(residual, e.residual) == 0
                && iterations == e.iterations && converged == e.converged && gradientEvaluations == e.gradientEvaluations;
    }

    @Override
    public int hashCode() {
        return 31 * Double.hashCode(value) + Arrays.hashCode(vector);
    }

    @Override
    public String toString() {
        return "Eigenvalue[value=" + value + ", residual=" + residual + ", iterations=" + iterations
                + ", converged=" + converged
                + ", gradientEvaluations=" + gradientEvaluations + "]";
    }
}
