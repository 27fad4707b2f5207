package io.github.agnosticsam.examples;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

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

    /** Writes a PNG atomically (OutputFiles): a failed write leaves any old file as it was. */
    static void save(org.knowm.xchart.internal.chartpart.Chart<?, ?> chart, Path file) {
        OutputFiles.write(file, out -> BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG));
    }
}
