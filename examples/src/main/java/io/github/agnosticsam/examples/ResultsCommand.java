package io.github.agnosticsam.examples;

import io.github.agnosticsam.io.Json;
import java.io.IOException;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
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
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * Summarises {@code train --json} reports: mean ± std of the final test accuracy per noise and
 * optimizer (a column per number of replicas of data-parallel runs).
 */
@Command(name = "results", mixinStandardHelpOptions = true,
        description = "Reads the train --json reports in a folder and prints a Markdown table of the final test accuracy "
                + "(mean ± sample std over seeds) per label-noise level and optimizer; optionally a grouped bar chart. "
                + "Reports with a sharpness series (train --sharpness-every) add tables of lambda_max, the trace and "
                + "rho-sharpness.")
final class ResultsCommand implements Callable<Integer> {
    @Parameters(paramLabel = "DIR", description = "Folder of train --json reports.")
    Path dir;

    @Option(names = "--chart", paramLabel = "FILE.png", description = "Write a bar chart.")
    Path chart;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        // noise -> optimizer -> accuracies over seeds
        Map<Double, Map<String, List<Double>>> table = new TreeMap<>();
        // noise -> optimizer -> the reports with a sharpness series
        Map<Double, Map<String, List<Report>>> series = new TreeMap<>();
        List<String> optimizers = new ArrayList<>();
        if (Files.isRegularFile(dir)) {
            throw new IllegalArgumentException(dir + " is a file: results reads a folder of train --json reports");
        }
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("no such folder: " + dir);
        }
        OutputFiles.checkDistinct(List.of(new OutputFiles.Use("a report in " + dir, null,
                p -> p.getFileName().toString().endsWith(".json") && OutputFiles.same(p.toAbsolutePath().getParent(), dir))),
                List.of(OutputFiles.Use.file("--chart", chart)));
        OutputFiles.checkWritable(chart);
        List<Path> reports;
        try (Stream<Path> files = Files.list(dir)) {
            reports = files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
        for (Path f : reports) {
            Report r = Report.read(f);
            table.computeIfAbsent(r.noise(), k -> new TreeMap<>()).computeIfAbsent(r.column(), k -> new ArrayList<>())
                    .add(r.testAccuracy());
            if (!r.sharpness().isEmpty()) {
                series.computeIfAbsent(r.noise(), k -> new TreeMap<>()).computeIfAbsent(r.column(),
                        k -> new ArrayList<>()).add(r);
            }
            if (!optimizers.contains(r.column())) {
                optimizers.add(r.column());
            }
        }
        if (table.isEmpty()) {
            throw new IllegalArgumentException("no train --json report in " + dir);
        }
        optimizers.sort(Report.COLUMN_ORDER);
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
        if (!series.isEmpty()) {
            printSharpness(out, series, optimizers);
        }
        out.flush();
        if (chart != null) {
            CategoryChart c = new CategoryChartBuilder().width(900).height(520)
                    .title("Final test accuracy, mean over seeds (" + reports.size() + " reports in " + dir.getFileName() + ")")
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
            out.println("wrote " + chart);
        }
        return 0;
    }

    /**
     * The final models' λ_max, trace and ρ-sharpness (ascent), then λ_max after each measured epoch, as
     * mean ± sample std over the runs (seeds).
     */
    private static void printSharpness(PrintWriter out, Map<Double, Map<String, List<Report>>> series,
            List<String> optimizers) {
        out.println();
        out.println("Sharpness of the final models (docs/diagnostics.md), mean ± sample std over seeds:");
        out.println();
        out.println("| label noise | optimizer | λ_max | trace | ρ-sharpness (ascent) | one-step ρ-sharpness |");
        out.println("|---|---|---|---|---|---|");
        for (var row : series.entrySet()) {
            for (String o : optimizers) {
                List<Report> runs = row.getValue().getOrDefault(o, List.of());
                if (runs.isEmpty()) {
                    continue;
                }
                out.printf(Locale.ROOT, "| %.0f %% | %s | %s | %s | %s | %s |%n", row.getKey() * 100, o,
                        spread(runs, -1, "lambdaMax", "value"), spread(runs, -1, "trace", "value"),
                        spread(runs, -1, "sharpness", "ascent"), spread(runs, -1, "sharpness", "oneStep"));
            }
        }
        out.println();
        out.println("λ_max after each measured epoch:");
        for (var row : series.entrySet()) {
            java.util.SortedSet<Integer> epochs = new java.util.TreeSet<>(); // every epoch some run measured
            row.getValue().values().forEach(runs -> runs.forEach(r -> epochs.addAll(r.sharpness().keySet())));
            out.println();
            out.print("| label noise | optimizer |");
            epochs.forEach(e -> out.print(" epoch " + e + " |"));
            out.println();
            out.println("|---|---|" + "---|".repeat(epochs.size()));
            for (String o : optimizers) {
                List<Report> runs = row.getValue().getOrDefault(o, List.of());
                if (runs.isEmpty()) {
                    continue;
                }
                out.printf(Locale.ROOT, "| %.0f %% | %s |", row.getKey() * 100, o);
                for (int e : epochs) {
                    out.print(" " + spread(runs, e, "lambdaMax", "value") + " |");
                }
                out.println();
            }
        }
    }

    /** mean ± std of one diagnostic over runs, at an epoch (−1: each run's last measurement). */
    private static String spread(List<Report> runs, int epoch, String diagnostic, String key) {
        List<Double> values = new ArrayList<>();
        for (Report r : runs) {
            Map<?, ?> figures = epoch < 0 ? r.sharpness().lastEntry().getValue() : r.sharpness().get(epoch);
            if (figures != null) {
                values.add(Diagnosis.number(figures, diagnostic, key));
            }
        }
        return values.isEmpty() ? "–" : String.format(Locale.ROOT, "%.4g ± %.2g (n=%d)", mean(values), std(values),
                values.size());
    }

    /** A file in the folder that is not a {@code train --json} report: the message names it. */
    static final class ReportException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ReportException(Path file, String what) {
            super(file + ": not a train --json report: " + what);
        }
    }

    /**
     * What the tables need of a {@code train --json} report, each field present and typed; {@code
     * sharpness} maps an epoch to its diagnostics (empty without a series).
     */
    record Report(String optimizer, int replicas, double noise, double testAccuracy,
            TreeMap<Integer, Map<?, ?>> sharpness) {
        private static final String TIMES = " ×";
        /** The optimizers in the order of their names, each by its number of replicas. */
        static final java.util.Comparator<String> COLUMN_ORDER = java.util.Comparator
                .comparingInt((String c) -> io.github.agnosticsam.optim.Optimizers.names().indexOf(c.split(TIMES)[0]))
                .thenComparingInt(c -> c.contains(TIMES) ? Integer.parseInt(c.split(TIMES)[1]) : 1);

        /** Its column: the optimizer, and the replicas of a data-parallel run ("agnostic-sam ×2"). */
        String column() {
            return replicas == 1 ? optimizer : optimizer + TIMES + replicas;
        }

        static Report read(Path file) {
            String text;
            try {
                long size = Files.size(file);
                // The bytes, the text and the parsed tree: a report is a few KiB, a huge file is refused unread.
                Heap.check("reading its " + size + " bytes", size, size * 16.0, what -> new ReportException(file, what));
                text = Files.readString(file);
            } catch (IOException e) {
                throw new ReportException(file, "cannot read it as JSON (" + reason(e) + ")");
            }
            if (text.isBlank()) {
                throw new ReportException(file, "expected a JSON object, got an empty file");
            }
            Object root;
            try {
                root = Json.parse(text);
            } catch (Json.JsonException e) {
                throw new ReportException(file, "cannot read it as JSON (" + e.getMessage() + ")");
            }
            if (!(root instanceof Map<?, ?> report)) {
                throw new ReportException(file, "expected a JSON object, got " + (root instanceof List ? "array"
                        : root instanceof String ? "string" : root instanceof BigDecimal ? "number"
                        : root instanceof Boolean ? "boolean" : "null"));
            }
            if (report.containsKey("runs") && !report.containsKey("testAccuracy")) {
                throw new ReportException(file, "it looks like a demo report (\"runs\"); results reads train --json "
                        + "reports");
            }
            if (!(report.get("config") instanceof Map<?, ?> config)) {
                throw new ReportException(file, "\"config\" must be an object");
            }
            if (!(config.get("optimizer") instanceof String optimizer)
                    || !io.github.agnosticsam.optim.Optimizers.names().contains(optimizer)) {
                throw new ReportException(file, "\"config.optimizer\" must be one of "
                        + String.join(", ", io.github.agnosticsam.optim.Optimizers.names()) + ", got "
                        + shown(config, "optimizer"));
            }
            int replicas = 1; // reports before data-parallel runs have none
            if (config.containsKey("replicas")) {
                if (!(config.get("replicas") instanceof BigDecimal n) || n.signum() <= 0 || n.scale() > 0
                        || n.compareTo(BigDecimal.valueOf(Integer.MAX_VALUE)) > 0) {
                    throw new ReportException(file, "\"config.replicas\" must be a whole number >= 1, got "
                            + shown(config, "replicas"));
                }
                replicas = n.intValue();
            }
            return new Report(optimizer, replicas, fraction(file, config, "config.noise", "noise"),
                    fraction(file, report, "testAccuracy", "testAccuracy"), series(file, report));
        }

        private static TreeMap<Integer, Map<?, ?>> series(Path file, Map<?, ?> report) {
            TreeMap<Integer, Map<?, ?>> out = new TreeMap<>();
            if (!(report.get("history") instanceof List<?> history)) {
                return out;
            }
            for (Object e : history) {
                if (e instanceof Map<?, ?> epoch && epoch.get("sharpness") != null) {
                    try {
                        Map<?, ?> figures = (Map<?, ?>) epoch.get("sharpness");
                        for (String[] d : new String[][] {{"lambdaMax", "value"}, {"trace", "value"},
                            {"sharpness", "ascent"}, {"sharpness", "oneStep"}}) {
                            Diagnosis.number(figures, d[0], d[1]);
                        }
                        out.put(((BigDecimal) epoch.get("epoch")).intValueExact(), figures);
                    } catch (RuntimeException bad) {
                        throw new ReportException(file, "a history entry's \"sharpness\" is not what train "
                                + "--sharpness-every writes (" + bad.getMessage() + ")");
                    }
                }
            }
            return out;
        }

        private static double fraction(Path file, Map<?, ?> parent, String path, String field) {
            double v = parent.get(field) instanceof BigDecimal n ? n.doubleValue() : Double.NaN;
            if (!(v >= 0 && v <= 1)) {
                throw new ReportException(file, "\"" + path + "\" must be a number in [0, 1], got "
                        + shown(parent, field));
            }
            return v;
        }

        /** A member as JSON text, or "nothing" when it is absent. */
        private static String shown(Map<?, ?> parent, String field) {
            return parent.containsKey(field) ? Json.write(parent.get(field)) : "nothing";
        }

        private static String reason(IOException e) {
            if (e instanceof CharacterCodingException) {
                return "it is not UTF-8 text";
            }
            if (e instanceof AccessDeniedException) {
                return "permission denied";
            }
            String m = e.getMessage();
            return m == null ? e.getClass().getSimpleName() : m.lines().findFirst().orElse("").strip();
        }
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
