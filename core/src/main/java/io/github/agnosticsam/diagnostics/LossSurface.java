package io.github.agnosticsam.diagnostics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The loss on a plane ({@link Landscape#plane}).
 *
 * @param alphas the coordinates along the first direction
 * @param betas the coordinates along the second direction
 * @param losses one row per β, one value per α: {@code losses.get(j).get(i)} is at (alphas[i], betas[j])
 * @param lossEvaluations what it cost: one per grid point, each over the whole set of batches
 */
public record LossSurface(List<Double> alphas, List<Double> betas, List<List<Double>> losses, long lossEvaluations) {

    public LossSurface {
        alphas = List.copyOf(alphas);
        betas = List.copyOf(betas);
        List<List<Double>> rows = new ArrayList<>(losses.size());
        for (List<Double> row : losses) {
            if (row.size() != alphas.size()) {
                throw new IllegalArgumentException("a row of " + row.size() + " losses for " + alphas.size() + " alphas");
            }
            rows.add(List.copyOf(row));
        }
        if (rows.size() != betas.size()) {
            throw new IllegalArgumentException(rows.size() + " rows of losses for " + betas.size() + " betas");
        }
        losses = List.copyOf(rows);
    }

    LossSurface(double[] alphas, double[] betas, List<List<Double>> losses, long lossEvaluations) {
        this(boxed(alphas), boxed(betas), losses, lossEvaluations);
    }

    /** JSON values. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("alphas", alphas);
        m.put("betas", betas);
        m.put("losses", losses);
        m.put("lossEvaluations", lossEvaluations);
        return m;
    }

    static List<Double> boxed(double[] values) {
        List<Double> out = new ArrayList<>(values.length);
        for (double v : values) {
            out.add(v);
        }
        return out;
    }
}
