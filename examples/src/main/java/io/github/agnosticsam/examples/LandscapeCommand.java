package io.github.agnosticsam.examples;

import io.github.agnosticsam.diagnostics.Landscape;
import io.github.agnosticsam.diagnostics.LossCurve;
import io.github.agnosticsam.diagnostics.LossSurface;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.training.Checkpoint;
import io.github.agnosticsam.training.CheckpointException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** Loss-landscape pictures of train checkpoints (docs/diagnostics.md), on any engine. */
@Command(name = "landscape", mixinStandardHelpOptions = true,
        description = {"Draws the training loss around train checkpoints, on the first --images Fashion-MNIST training "
                + "images (clean labels): with two checkpoints, along the straight line from the first (α = 0) to the "
                + "second (α = 1); with one, on a plane through it (--dims 2, a heat map) or a line (--dims 1) along "
                + "random filter-normalised directions (Li et al., 2018). Writes a PNG and the values as JSON.",
                "Each point costs one forward and backward pass over the images (21x21 = 441 points by default on a plane)."})
final class LandscapeCommand implements Callable<Integer> {
    @Parameters(arity = "1..2", paramLabel = "CHECKPOINT", description = "One or two checkpoint files of the same model.")
    List<Path> checkpoints;

    @Option(names = "--dims", defaultValue = "2", description = "With one checkpoint: 1 (a line) or 2 (a plane; default).")
    int dims;

    @Option(names = "--range", paramLabel = "FROM,TO",
            description = "Coordinates drawn (default: -0.5,1.5 between two checkpoints, -1,1 around one).")
    String range;

    @Option(names = "--points", paramLabel = "N",
            description = "Points along each axis (default: 41 on a line, 21 on a plane).")
    Integer points;

    @Option(names = "--images", defaultValue = "" + Diagnosis.IMAGES,
            description = "Training images the loss is taken on (default: ${DEFAULT-VALUE}).")
    int images;

    @Option(names = "--batch", defaultValue = "" + Diagnosis.BATCH, description = "Images per batch (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the random directions (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--png", paramLabel = "FILE", defaultValue = "landscape.png", description = "The picture (default: ${DEFAULT-VALUE}).")
    Path png;

    @Option(names = "--json", paramLabel = "FILE", defaultValue = "landscape.json",
            description = "The values (default: ${DEFAULT-VALUE}).")
    Path json;

    @Option(names = "--engine", paramLabel = "NAME", description = "Engine (default: the default engine).")
    String engineName;

    @Mixin
    EngineOptionsMixin engineOptions;

    @Mixin
    DataOption data;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (checkpoints.size() > 2) {
            throw new IllegalArgumentException("landscape takes one or two checkpoints, got " + checkpoints.size());
        }
        boolean between = checkpoints.size() == 2;
        if (!between && dims != 1 && dims != 2) {
            throw new IllegalArgumentException("--dims must be 1 or 2, got " + dims);
        }
        if (between && spec.commandLine().getParseResult().hasMatchedOption("--dims")) {
            throw new IllegalArgumentException("--dims is for one checkpoint; between two the landscape is their line");
        }
        boolean plane = !between && dims == 2;
        double[] span = range != null ? span(range) : between ? new double[] {-0.5, 1.5} : new double[] {-1, 1};
        int n = points != null ? points : plane ? 21 : 41;
        if (span.length != 2 || !(Double.isFinite(span[0]) && Double.isFinite(span[1]) && span[0] < span[1])) {
            throw new IllegalArgumentException("--range must be two finite numbers FROM,TO with FROM < TO, got "
                    + java.util.Arrays.toString(span));
        }
        if (n < 2) {
            throw new IllegalArgumentException("--points must be >= 2, got " + n);
        }
        long count = plane ? (long) n * n : n;
        Heap.check("--points " + n + (plane ? " (" + count + " on the plane)" : ""), n, count * (double) Heap.RESULT_BYTES,
                IllegalArgumentException::new);
        double[] grid = Landscape.grid(span[0], span[1], n);
        engineOptions.check();
        List<OutputFiles.Use> inputs = new java.util.ArrayList<>(data.inputs());
        checkpoints.forEach(c -> inputs.add(OutputFiles.Use.file("the checkpoint", c)));
        OutputFiles.checkDistinct(inputs, List.of(OutputFiles.Use.file("--png", png), OutputFiles.Use.file("--json", json)));
        OutputFiles.checkWritable(png, json);
        Checkpoint first = Checkpoint.read(checkpoints.get(0));
        ModelSpec model = Diagnosis.standardModel(checkpoints.get(0), first);
        Checkpoint second = between ? Checkpoint.read(checkpoints.get(1)) : null;
        if (second != null && !second.model().equals(first.model())) {
            throw new CheckpointException(checkpoints.get(1) + ": its model (" + second.model() + ") is not "
                    + checkpoints.get(0) + "'s (" + first.model() + ")");
        }
        List<Batch> batches = Diagnosis.batches(ImageDataset.load(data.dir, true), model, "--images", images, batch);
        PrintWriter out = spec.commandLine().getOut();
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("checkpoints", checkpoints.stream().map(Path::toString).toList());
        report.put("model", model.toString());
        String title = String.format(Locale.ROOT, "%s, %d training images", model, images);
        try (Engine engine = engineOptions.create(engineName)) {
            out.printf(Locale.ROOT, "%s, engine %s on %s; %d images; %d points%n", model, engine.name(), engine.device(),
                    images, count);
            out.flush();
            report.put("engine", engine.name());
            report.put("images", images);
            report.put("batch", batch);
            if (between) {
                LossCurve c = interpolation(engine, model, first, second, batches, grid);
                report.put("kind", "interpolation");
                report.put("interpolation", c.toMap());
                Charts.lossCurves(Map.of("loss", c), title, "α: 0 = " + checkpoints.get(0) + ", 1 = " + checkpoints.get(1),
                        png);
                out.printf(Locale.ROOT, "loss at α = 0: %.6g, at α = 1: %.6g, highest in between: %.6g%n",
                        lossAt(c, 0), lossAt(c, 1), highestBetween(c));
            } else {
                try (Network net = Diagnosis.network(engine, model, first);
                        Landscape landscape = Landscape.of(net, batches)) {
                    List<double[]> d = landscape.filterNormalizedDirections(dims, seed);
                    report.put("kind", plane ? "plane" : "line");
                    report.put("seed", seed);
                    if (plane) {
                        LossSurface s = landscape.plane(d.get(0), d.get(1), grid, grid);
                        report.put("plane", s.toMap());
                        Charts.lossSurface(s, title + ", filter-normalised directions", png);
                    } else {
                        LossCurve c = landscape.line(d.get(0), grid);
                        report.put("line", c.toMap());
                        Charts.lossCurves(Map.of("loss", c), title, "α along a filter-normalised direction", png);
                    }
                }
            }
        }
        Reports.write(json, report);
        out.println("wrote " + png + ", " + json);
        return 0;
    }

    /**
     * The loss on the line from one checkpoint's parameters (α = 0) to another's (α = 1), on a network
     * built here from the first.
     */
    static LossCurve interpolation(Engine engine, ModelSpec model, Checkpoint from, Checkpoint to, List<Batch> batches,
            double[] alphas) {
        try (Network net = Diagnosis.network(engine, model, from);
                Landscape landscape = Landscape.of(net, batches)) {
            return landscape.interpolation(from.parameters(), to.parameters(), alphas);
        }
    }

    /** FROM,TO as two numbers (the caller checks them); anything else names --range. */
    private static double[] span(String text) {
        String[] parts = text.split(",", -1);
        try {
            return java.util.Arrays.stream(parts).mapToDouble(p -> Double.parseDouble(p.strip())).toArray();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--range must be two numbers FROM,TO, got '" + text + "'");
        }
    }

    /** The loss at α (NaN when α is not on the curve's grid). */
    static double lossAt(LossCurve c, double alpha) {
        int i = c.alphas().indexOf(alpha);
        return i < 0 ? Double.NaN : c.losses().get(i);
    }

    /** The highest loss at grid points with 0 ≤ α ≤ 1 (NaN when there is none). */
    static double highestBetween(LossCurve c) {
        double max = Double.NaN;
        for (int i = 0; i < c.alphas().size(); i++) {
            if (c.alphas().get(i) >= 0 && c.alphas().get(i) <= 1 && !(c.losses().get(i) <= max)) {
                max = c.losses().get(i);
            }
        }
        return max;
    }
}
