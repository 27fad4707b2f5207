package io.github.agnosticsam.diagnostics;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Hutchinson's estimate of the Hessian's trace ({@link Curvature#trace}).
 *
 * @param value the mean of zᵀHz over the probes
 * @param standardError the sample standard deviation of zᵀHz over √probes: the estimator's own noise,
 *     not the finite-difference error
 * @param probes the number of Rademacher probes, {@link Curvature#rademacherProbes} with the seed
 * @param samples zᵀHz of each probe, in order
 * @param gradientEvaluations what it cost: 2 per probe, each over the whole set of batches
 */
public record Trace(double value, double standardError, int probes, double[] samples, long gradientEvaluations) {

    public Trace {
        samples = samples.clone();
    }

    @Override
    public double[] samples() {
        return samples.clone();
    }

    /** JSON values, the samples left out. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("value", value);
        m.put("standardError", standardError);
        m.put("probes", probes);
        m.put("gradientEvaluations", gradientEvaluations);
        return m;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Trace t && Double.compare(value, t.value) == 0
                && Double.compare(standardError, t.standardError) == 0 && probes == t.probes
                && Arrays.equals(samples, t.samples) && gradientEvaluations == t.gradientEvaluations;
    }

    @Override
    public int hashCode() {
        return 31 * Double.hashCode(value) + Arrays.hashCode(samples);
    }

    @Override
    public String toString() {
        return "Trace[value=" + value + ", standardError=" + standardError + ", probes=" + probes
                + ", gradientEvaluations=" + gradientEvaluations + "]";
    }
}
