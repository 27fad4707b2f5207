package io.github.agnosticsam.examples;

import io.github.agnosticsam.Batch;
import io.github.agnosticsam.Checkpoint;
import io.github.agnosticsam.CheckpointException;
import io.github.agnosticsam.Engine;
import io.github.agnosticsam.ModelSpec;
import io.github.agnosticsam.Network;
import io.github.agnosticsam.diagnostics.Curvature;
import io.github.agnosticsam.diagnostics.CurvatureOptions;
import io.github.agnosticsam.diagnostics.Eigenvalue;
import io.github.agnosticsam.diagnostics.Sharpness;
import io.github.agnosticsam.diagnostics.Trace;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** The curvature of a checkpoint's training loss (docs/diagnostics.md), on any engine. */
@Command(name = "sharpness", mixinStandardHelpOptions = true,
        description = "Reads a train checkpoint and measures how sharp its training loss is on the first --images "
                + "Fashion-MNIST training images (clean labels, batches of --batch): λ_max (power iteration), the "
                + "Hessian's trace (Hutchinson) and ρ-sharpness (SAM's one step and projected ascent), each with its "
                + "cost in gradient evaluations (docs/diagnostics.md). Prints them; --json writes them.")
final class SharpnessCommand implements Callable<Integer> {
    @Parameters(paramLabel = "CHECKPOINT", description = "A checkpoint file (train --checkpoint DIR writes them).")
    Path checkpoint;

    @Option(names = "--engine", paramLabel = "NAME", description = "Engine (default: the default engine).")
    String engineName;

    @Mixin
    EngineOptionsMixin engineOptions;

    @Mixin
    DataOption data;

    @Option(names = "--images", defaultValue = "1024", description = "Training images diagnosed (default: ${DEFAULT-VALUE}).")
    int images;

    @Option(names = "--batch", defaultValue = "256", description = "Images per batch (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--probes", defaultValue = "20", description = "Hutchinson probes (default: ${DEFAULT-VALUE}).")
    int probes;

    @Option(names = "--rho", defaultValue = "0.05", description = "Radius of ρ-sharpness (default: ${DEFAULT-VALUE}).")
    double rho;

    @Option(names = "--ascent-steps", defaultValue = "10",
            description = "Projected ascent steps of ρ-sharpness (default: ${DEFAULT-VALUE}).")
    int ascentSteps;

    @Option(names = "--h", defaultValue = "" + CurvatureOptions.DEFAULT_H_RELATIVE,
            description = "Finite-difference step relative to the parameters' scale (default: ${DEFAULT-VALUE}; "
                    + "check a result against half of it).")
    double hRelative;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the start vector and probes (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--json", paramLabel = "FILE", description = "Write the diagnostics as JSON.")
    Path json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (images < 1 || batch < 1) {
            throw new IllegalArgumentException("--images and --batch must be >= 1, got " + images + " and " + batch);
        }
        CurvatureOptions options = CurvatureOptions.defaults().withHRelative(hRelative).withSeed(seed);
        if (probes < 2) {
            throw new IllegalArgumentException("--probes must be >= 2 (a standard error needs two), got " + probes);
        }
        if (!(rho >= 0 && rho < Double.POSITIVE_INFINITY) || ascentSteps < 0) {
            throw new IllegalArgumentException("--rho must be a finite number >= 0 and --ascent-steps >= 0, got " + rho
                    + " and " + ascentSteps);
        }
        engineOptions.check();
        OutputFiles.checkWritable(json);
        Checkpoint from = Checkpoint.read(checkpoint);
        ModelSpec model = standardModel(from);
        ImageDataset train = ImageDataset.load(data.dir, true);
        List<Batch> batches = batches(train, model);
        PrintWriter out = spec.commandLine().getOut();
        try (Engine engine = engineOptions.create(engineName);
                Network net = engine.build(model, from.parameters())) {
            net.setRunningStatistics(from.runningStatistics());
            try (Curvature c = Curvature.of(net, batches, options)) {
                out.printf(Locale.ROOT, "%s after %d steps (%s), engine %s on %s; %d images in batches of %d%n", model,
                        from.steps(), checkpoint, engine.name(), engine.device(), images, batch);
                out.flush();
                Eigenvalue top = c.lambdaMax();
                Trace trace = c.trace(probes);
                Sharpness sharp = c.sharpness(rho, ascentSteps);
                out.printf(Locale.ROOT, "lambda_max      %.6g  (%d iterations, %s, residual %.2g; %d gradient evaluations)%n",
                        top.value(), top.iterations(), top.converged() ? "converged" : "NOT converged", top.residual(),
                        top.gradientEvaluations());
                out.printf(Locale.ROOT, "trace           %.6g ± %.2g  (%d probes; %d gradient evaluations)%n", trace.value(),
                        trace.standardError(), trace.probes(), trace.gradientEvaluations());
                out.printf(Locale.ROOT, "rho-sharpness   one step %.6g, ascent %.6g  (rho %s, loss %.6g; %d gradient "
                        + "evaluations)%n", sharp.oneStep(), sharp.ascent(), rho, sharp.loss(), sharp.gradientEvaluations());
                if (json != null) {
                    Map<String, Object> report = new LinkedHashMap<>();
                    report.put("checkpoint", checkpoint.toString());
                    report.put("model", model.toString());
                    report.put("steps", from.steps());
                    report.put("engine", engine.name());
                    report.put("images", images);
                    report.put("batch", batch);
                    report.put("options", Map.of("hRelative", hRelative, "seed", seed, "tolerance", options.tolerance(),
                            "maxIterations", options.maxIterations()));
                    report.put("lambdaMax", top.toMap());
                    report.put("trace", trace.toMap());
                    report.put("sharpness", sharp.toMap());
                    Reports.write(json, report);
                    out.println("wrote " + json);
                }
            }
        }
        return 0;
    }

    /** The standard model the checkpoint is of (checkpoints name it as its description prints). */
    private ModelSpec standardModel(Checkpoint from) {
        for (String name : ModelSpec.STANDARD) {
            ModelSpec spec = ModelSpec.standard(name);
            if (spec.toString().equals(from.model())) {
                return spec;
            }
        }
        throw new CheckpointException(checkpoint + ": its model (" + from.model() + ") is none of the standard models "
                + String.join(", ", ModelSpec.STANDARD));
    }

    /** The first {@code images} training images, in order, in batches of {@code batch} (the last may be smaller). */
    private List<Batch> batches(ImageDataset train, ModelSpec model) {
        if (images > train.size()) {
            throw new IllegalArgumentException("--images " + images + ": the training set has " + train.size());
        }
        int[] order = new int[images];
        for (int i = 0; i < images; i++) {
            order[i] = i;
        }
        List<Batch> out = new ArrayList<>();
        for (int from = 0; from < images; from += batch) {
            out.add(train.batch(order, from, Math.min(batch, images - from), ModelSpecs.isImage(model)));
        }
        return out;
    }
}
