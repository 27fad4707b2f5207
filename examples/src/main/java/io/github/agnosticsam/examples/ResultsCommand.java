package io.github.agnosticsam.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Summarises {@code train --json} reports: mean ± std of the final test accuracy per noise and optimizer. */
@Command(name = "results", mixinStandardHelpOptions = true,
        description = "Reads the train --json reports in a folder and prints a Markdown table of the final test accuracy "
                + "(mean ± sample std over seeds) per label-noise level and optimizer; optionally a grouped bar chart.")
final class ResultsCommand implements Callable<Integer> {
    @Parameters(paramLabel = "DIR", description = "Folder of train --json reports.")
    Path dir;

    @Option(names = "--chart", paramLabel = "FILE.png", description = "Write a bar chart.")
    Path chart;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        ObjectMapper json = new ObjectMapper();
        // noise -> optimizer -> accuracies over seeds
        Map<Double, Map<String, List<Double>>> table = new TreeMap<>();
        List<String> optimizers = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                JsonNode r = json.readTree(f.toFile());
                String optimizer = r.path("config").path("optimizer").asText();
                double noise = r.path("config").path("noise").asDouble();
                table.computeIfAbsent(noise, k -> new TreeMap<>()).computeIfAbsent(optimizer, k -> new ArrayList<>())
                        .add(r.path("testAccuracy").asDouble());
                if (!optimizers.contains(optimizer)) {
                    optimizers.add(optimizer);
                }
            }
        }
        if (table.isEmpty()) {
            throw new IllegalArgumentException("no train --json report in " + dir);
        }
        optimizers.sort(java.util.Comparator.comparingInt(io.github.agnosticsam.Optimizers.names()::indexOf));
        PrintWriter out = spec.commandLine().getOut();
        out.print("| label noise |");
        optimizers.forEach(o -> out.print(" " + o + " |"));
        out.println();
        out.print("|---|");
        optimizers.forEach(o -> out.print("---|"));
        out.println();
        for (var row : table.entrySet()) {
            out.printf(Locale.ROOT, "| %.0f %% |", row.getKey() * 100);
            for (String o : optimizers) {
                List<Double> a = row.getValue().getOrDefault(o, List.of());
                out.printf(Locale.ROOT, " %s |", a.isEmpty() ? "–" : String.format(Locale.ROOT, "%.2f ± %.2f (n=%d)",
                        100 * mean(a), 100 * std(a), a.size()));
            }
            out.println();
        }
        out.flush();
        if (chart != null) {
            CategoryChart c = new CategoryChartBuilder().width(900).height(520)
                    .title("Fashion-MNIST, MLP, 5000 images, 40 epochs: final test accuracy (mean over seeds)")
                    .xAxisTitle("label noise").yAxisTitle("test accuracy").build();
            List<String> noises = new ArrayList<>();
            table.keySet().forEach(n -> noises.add(String.format(Locale.ROOT, "%.0f%%", n * 100)));
            double min = 1;
            for (String o : optimizers) {
                List<Double> means = new ArrayList<>();
                List<Double> stds = new ArrayList<>();
                for (var row : table.values()) {
                    List<Double> a = row.getOrDefault(o, List.of(0.0));
                    means.add(mean(a));
                    stds.add(std(a));
                    min = Math.min(min, mean(a));
                }
                c.addSeries(o, noises, means, stds);
            }
            c.getStyler().setYAxisMin(Math.max(0, Math.floor(min * 20 - 1) / 20));
            Charts.save(c, chart);
        }
        return 0;
    }

    static double mean(List<Double> a) {
        return a.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }

    static double std(List<Double> a) {
        if (a.size() < 2) {
            return 0;
        }
        double m = mean(a);
        double s = 0;
        for (double v : a) {
            s += (v - m) * (v - m);
        }
        return Math.sqrt(s / (a.size() - 1));
    }
}
