package io.github.agnosticsam.examples;

import io.github.agnosticsam.diagnostics.LossCurve;
import io.github.agnosticsam.diagnostics.LossSurface;
import java.awt.Color;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** PNG charts of runs, with XChart. */
final class Charts {
    private Charts() {
    }

    static void testAccuracyPerEpoch(List<TrainingRun.Result> runs, String title, Path file) {
        XYChart chart = new XYChartBuilder().width(900).height(540).title(title).xAxisTitle("epoch")
                .yAxisTitle("test accuracy").build();
        for (TrainingRun.Result r : runs) {
            List<Integer> x = new ArrayList<>();
            List<Double> y = new ArrayList<>();
            r.history().forEach(e -> {
                x.add(e.epoch());
                y.add(e.testAccuracy());
            });
            chart.addSeries(r.optimizer(), x, y);
        }
        save(chart, file);
    }

    static void finalAccuracy(List<TrainingRun.Result> runs, String title, Path file) {
        CategoryChart chart = new CategoryChartBuilder().width(700).height(480).title(title).xAxisTitle("optimizer")
                .yAxisTitle("final test accuracy").build();
        List<String> names = new ArrayList<>();
        List<Double> values = new ArrayList<>();
        for (TrainingRun.Result r : runs) {
            names.add(r.optimizer());
            values.add(r.testAccuracy());
        }
        chart.getStyler().setLegendVisible(false);
        double min = values.stream().mapToDouble(Double::doubleValue).min().orElse(0);
        chart.getStyler().setYAxisMin(Math.max(0, Math.floor(min * 20 - 1) / 20));
        chart.addSeries("test accuracy", names, values);
        save(chart, file);
    }

    /** A loss along a line: {@code curves} by name (the same alphas each), x titled {@code xTitle}. */
    static void lossCurves(Map<String, LossCurve> curves, String title, String xTitle, Path file) {
        XYChart chart = new XYChartBuilder().width(900).height(540).title(title).xAxisTitle(xTitle)
                .yAxisTitle("training loss").build();
        curves.forEach((name, c) -> chart.addSeries(name, c.alphas(), c.losses()).setMarker(SeriesMarkers.NONE));
        chart.getStyler().setLegendVisible(curves.size() > 1);
        save(chart, file);
    }

    /**
     * A loss on a plane as a heat map, colours log-spaced (a landscape spans orders of magnitude), α
     * across, β up.
     */
    static void lossSurface(LossSurface s, String title, Path file) {
        HeatMapChart chart = new HeatMapChartBuilder().width(900).height(800).title(title).xAxisTitle("α")
                .yAxisTitle("β").build();
        List<Number[]> cells = new ArrayList<>();
        for (int j = 0; j < s.betas().size(); j++) {
            for (int i = 0; i < s.alphas().size(); i++) {
                cells.add(new Number[] {i, j, Math.log10(s.losses().get(j).get(i))});
            }
        }
        chart.getStyler().setRangeColors(new Color[] {new Color(0x30123b), new Color(0x4662d7), new Color(0x36aaf9),
            new Color(0x1ae4b6), new Color(0x72fe5e), new Color(0xc7ef34), new Color(0xfabb21), new Color(0xe4460a)});
        // The legend's bands are log-spaced; it names them by the loss itself.
        chart.getStyler().setPiecewise(true).setSplitNumber(8) // one band per colour
                .setHeatMapDecimalValueFormatter(v -> String.format(Locale.ROOT, "%.3g", Math.pow(10, v)));
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.addSeries("training loss", labels(s.alphas()), labels(s.betas()), cells);
        save(chart, file);
    }

    private static List<String> labels(List<Double> values) {
        List<String> out = new ArrayList<>();
        for (double v : values) {
            out.add(new java.math.BigDecimal(String.format(Locale.ROOT, "%.3g", v)).stripTrailingZeros().toPlainString());
        }
        return out;
    }

    /** Writes a PNG atomically (OutputFiles): a failed write leaves any old file as it was. */
    static void save(org.knowm.xchart.internal.chartpart.Chart<?, ?> chart, Path file) {
        OutputFiles.write(file, out -> BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG));
    }
}
