package io.github.agnosticsam.diagnostics;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * ρ-sharpness: how much the loss can rise within the ball ‖δ‖ ≤ ρ around θ ({@link Curvature#sharpness}).
 * Both estimates are losses actually measured at points inside the ball, so both are lower bounds of
 * the true maximum.
 *
 * @param rho the radius (absolute, as SAM's ρ)
 * @param loss L(θ), the size-weighted mean loss over the batches
 * @param oneStep SAM's estimate L(θ + ρ·g/‖g‖) − L(θ) (0 when g = 0)
 * @param oneStepEvaluations what the one-step estimate cost: 2 gradient evaluations
 * @param ascent the largest increase L(θ + δ) − L(θ) met by projected ascent, which starts at SAM's
 *     point: never below {@code oneStep}
 * @param ascentSteps the number of projected ascent steps after SAM's point
 * @param largestRadius the largest ‖δ‖ of all points evaluated (at most ρ, to rounding)
 * @param gradientEvaluations what the whole estimate cost: 2 + ascentSteps, each over the whole set of batches
 */
public record Sharpness(double rho, double loss, double oneStep, long oneStepEvaluations, double ascent,
        int ascentSteps, double largestRadius, long gradientEvaluations) {

    /** JSON values. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("rho", rho);
        m.put("loss", loss);
        m.put("oneStep", oneStep);
        m.put("oneStepEvaluations", oneStepEvaluations);
        m.put("ascent", ascent);
        m.put("ascentSteps", ascentSteps);
        m.put("largestRadius", largestRadius);
        m.put("gradientEvaluations", gradientEvaluations);
        return m;
    }
}
