package io.github.agnosticsam.examples;

import io.github.agnosticsam.diagnostics.Curvature;
import io.github.agnosticsam.diagnostics.CurvatureOptions;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.training.Checkpoint;
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

/** The curvature of a checkpoint's training loss (docs/diagnostics.md), on any engine. */
@Command(name = "sharpness", mixinStandardHelpOptions = true,
        description = "Reads a train checkpoint and measures how sharp its training loss is on the first --images "
                + "Fashion-MNIST training images (clean labels, batches of --batch): λ_max (Lanczos), the "
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

    @Option(names = "--images", defaultValue = "" + Diagnosis.IMAGES,
            description = "Training images diagnosed (default: ${DEFAULT-VALUE}).")
    int images;

    @Option(names = "--batch", defaultValue = "" + Diagnosis.BATCH, description = "Images per batch (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--probes", defaultValue = "" + Diagnosis.PROBES, description = "Hutchinson probes (default: ${DEFAULT-VALUE}).")
    int probes;

    @Option(names = "--rho", defaultValue = "" + Diagnosis.RHO, description = "Radius of ρ-sharpness (default: ${DEFAULT-VALUE}).")
    double rho;

    @Option(names = "--ascent-steps", defaultValue = "" + Diagnosis.ASCENT_STEPS,
            description = "Projected ascent steps of ρ-sharpness (default: ${DEFAULT-VALUE}).")
    int ascentSteps;

    @Option(names = "--h", defaultValue = "" + CurvatureOptions.DEFAULT_H_RELATIVE,
            description = "Finite-difference step relative to the parameters' scale, where the products are central "
                    + "differences (default: ${DEFAULT-VALUE}; check a result against half of it).")
    double hRelative;

    @Option(names = "--exact-products",
            description = "Exact Hessian-vector products (double backward) instead of central differences: djl only, "
                    + "and it holds about two parameter-sized tensors of native memory per product until the command "
                    + "ends (docs/diagnostics.md).")
    boolean exactProducts;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the start vector and probes (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--json", paramLabel = "FILE", description = "Write the diagnostics as JSON.")
    Path json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (!(hRelative > 0 && hRelative <= 1)) {
            throw new IllegalArgumentException("--h must be a number in (0, 1] (the step relative to the parameters' "
                    + "root mean square), got " + hRelative);
        }
        Diagnosis.Settings settings = new Diagnosis.Settings(images, batch, probes, rho, ascentSteps,
                CurvatureOptions.defaults().withHRelative(hRelative).withSeed(seed));
        engineOptions.check();
        List<OutputFiles.Use> inputs = new java.util.ArrayList<>(data.inputs());
        inputs.add(OutputFiles.Use.file("the checkpoint", checkpoint));
        OutputFiles.checkDistinct(inputs, List.of(OutputFiles.Use.file("--json", json)));
        OutputFiles.checkWritable(json);
        Checkpoint from = Checkpoint.read(checkpoint);
        ModelSpec model = Diagnosis.standardModel(checkpoint, from);
        List<Batch> batches = Diagnosis.batches(ImageDataset.load(data.dir, true), model, "--images", images, batch);
        PrintWriter out = spec.commandLine().getOut();
        try (Engine engine = engineOptions.create(engineName,
                exactProducts ? Map.of("djl.exactProducts", "true") : Map.of()); // djl's documented property
                Network net = Diagnosis.network(engine, model, from);
                Curvature c = Curvature.of(net, batches, settings.curvature())) {
            if (exactProducts && !c.exactProducts()) {
                throw new IllegalArgumentException("--exact-products: engine " + engine.name() + " has no exact "
                        + "Hessian-vector products (djl has them)");
            }
            out.printf(Locale.ROOT, "%s after %d steps (%s), engine %s on %s; %d images in batches of %d%n", model,
                    from.steps(), checkpoint, engine.name(), engine.device(), images, batch);
            out.flush();
            Diagnosis.Figures figures = Diagnosis.measure(c, settings);
            out.print(figures.describe());
            out.flush();
            if (json != null) {
                Map<String, Object> report = new LinkedHashMap<>();
                report.put("checkpoint", checkpoint.toString());
                report.put("model", model.toString());
                report.put("steps", from.steps());
                report.put("engine", engine.name());
                report.put("settings", settings.toMap());
                report.putAll(figures.toMap());
                Reports.write(json, report);
                out.println("wrote " + json);
            }
        }
        return 0;
    }
}
