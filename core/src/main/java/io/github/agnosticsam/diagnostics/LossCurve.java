package io.github.agnosticsam.diagnostics;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The loss along a line ({@link Landscape#interpolation}, {@link Landscape#line}).
 *
 * @param alphas the coordinates, as given
 * @param losses the loss at each coordinate
 * @param lossEvaluations what it cost: one per coordinate, each over the whole set of batches
 */
public record LossCurve(List<Double> alphas, List<Double> losses, long lossEvaluations) {

    public LossCurve {
        alphas = List.copyOf(alphas);
        losses = List.copyOf(losses);
        if (alphas.size() != losses.size()) {
            throw new IllegalArgumentException(alphas.size() + " coordinates but " + losses.size() + " losses");
        }
    }

    LossCurve(double[] alphas, List<Double> losses, long lossEvaluations) {
        this(LossSurface.boxed(alphas), losses, lossEvaluations);
    }

    /** JSON values. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("alphas", alphas);
        m.put("losses", losses);
        m.put("lossEvaluations", lossEvaluations);
        return m;
    }
}
