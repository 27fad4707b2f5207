package io.github.agnosticsam.examples;

import io.github.agnosticsam.diagnostics.Landscape;
import io.github.agnosticsam.diagnostics.LossCurve;
import io.github.agnosticsam.io.Json;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.Optimizer;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.tensorboard.SummaryWriter;
import io.github.agnosticsam.training.CheckpointException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The main job: SGD, SAM and Agnostic-SAM on scarce, noisy Fashion-MNIST (5000 images, 40 % of their
 * labels replaced at random), where memorising the noise is what hurts and flat minima help.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Trains sgd, sam and agnostic-sam on 5000 Fashion-MNIST images with 40%% label noise, measures how "
                + "sharp each final model is (lambda_max, trace, rho-sharpness), prints a comparison table and writes "
                + "demo-report/ (report.json, PNG charts, the loss between sgd's and agnostic-sam's solutions, and each "
                + "run's checkpoint after every epoch; --resume continues an interrupted demo).",
                "--quick runs a seconds-long version of the same."})
final class DemoCommand implements Callable<Integer> {
    static final List<String> OPTIMIZERS = List.of("sgd", "sam", "agnostic-sam");
    private static final String LANDSCAPE_FROM = "sgd";
    private static final String LANDSCAPE_TO = "agnostic-sam";
    private static final double[] LANDSCAPE_ALPHAS = Landscape.grid(-0.5, 1.5, 41);
    /** The runs' TensorBoard folders, one per optimizer, in the output folder; and the steps between logged steps. */
    private static final String TENSORBOARD = "tensorboard";
    private static final int TENSORBOARD_EVERY = 10;

    @Option(names = "--engine", paramLabel = "NAME", description = "Engine (default: the default engine).")
    String engineName;

    @Mixin
    EngineOptionsMixin engineOptions;

    @Mixin
    DataOption data;

    @Option(names = "--quick", description = "1000 images, 3 epochs: a seconds-long check that everything runs.")
    boolean quick;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "demo-report", description = "Report folder (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--resume", description = "Continue an interrupted demo: each run goes on from its newest checkpoint in "
            + "OUT/checkpoints/OPTIMIZER (written after every epoch), to the result it would have had without the break.")
    boolean resume;

    @Spec
    CommandSpec spec;

    /** The diagnostics of each final model: the defaults of {@code sharpness} (256 images with --quick). */
    Diagnosis.Settings sharpness() {
        return Diagnosis.Settings.defaults().withImages(quick ? 256 : Diagnosis.IMAGES);
    }

    RunOptions settings() {
        RunOptions o = new RunOptions();
        o.model = "mlp";
        o.noise = 0.4;
        o.limit = quick ? 1000 : 5000;
        o.epochs = quick ? 3 : 40;
        o.batch = 128;
        o.valBatch = 32;
        o.replicas = 1;
        o.lr = 0.05;
        o.momentum = 0.9;
        o.weightDecay = 5e-4;
        o.seed = seed;
        return o;
    }

    @Override
    public Integer call() {
        long begun = System.nanoTime();
        RunOptions o = settings();
        engineOptions.check();
        OutputFiles.checkWritable(out.resolve("report.json"), out.resolve("test-accuracy.png"),
                out.resolve("final-accuracy.png"), out.resolve("landscape.png"), out.resolve("checkpoints").resolve("probe"));
        ImageDataset train = ImageDataset.load(data.dir, true);
        ImageDataset test = ImageDataset.load(data.dir, false);
        Diagnosis.Settings diagnosis = sharpness();
        List<Batch> diagnosed = Diagnosis.batches(train, ModelSpec.standard(o.model), "--images", diagnosis.images(),
                diagnosis.batch());
        PrintWriter w = spec.commandLine().getOut();
        List<TrainingRun.Result> results = new ArrayList<>();
        Map<String, Object> config;
        LossCurve landscape;
        double landscapeSeconds;
        try (Engine engine = engineOptions.create(engineName)) {
            w.printf(Locale.ROOT, "engine %s on %s; mlp, %d images, %.0f%% label noise, %d epochs%n", engine.name(),
                    engine.device(), o.limit, o.noise * 100, o.epochs);
            w.flush();
            for (String name : OPTIMIZERS) {
                RunCheckpoints where = new RunCheckpoints(out.resolve("checkpoints").resolve(name), 0, 1);
                Map<String, String> options = new LinkedHashMap<>();
                o.describe().forEach((k, v) -> options.put(k, String.valueOf(v)));
                options.put("optimizer", name);
                TrainingRun.Resumed from = null;
                if (resume && !where.isEmpty()) {
                    from = TrainingRun.Resumed.newest(where.dir());
                    if (!Json.write(options).equals(from.checkpoint.extra().get(TrainingRun.OPTIONS))) {
                        throw new CheckpointException("--resume: the checkpoints in " + where.dir() + " are of another "
                                + "demo (--quick or --seed differ): run it without --resume to start again");
                    }
                    w.printf(Locale.ROOT, "%s: resuming from step %d%n", name, from.checkpoint.steps());
                    w.flush();
                } else {
                    where.clear();
                    SummaryWriter.clear(out.resolve(TENSORBOARD).resolve(name));
                }
                where.prepare();
                Optimizer optimizer = TrainingRun.optimizer(name, o, TrainingRun.totalSteps(o, train.size()));
                results.add(TrainingRun.run(engine, name, optimizer, o, train, test, true,
                        new TrainingRun.Checkpointing(where, from, options),
                        new TrainingRun.SharpnessSeries(o.epochs, diagnosed, diagnosis), null,
                        new TrainingRun.Board(out.resolve(TENSORBOARD).resolve(name), TENSORBOARD_EVERY)));
            }
            // The loss between SGD's and Agnostic-SAM's solutions (same seed, same start).
            long landscapeStart = System.nanoTime();
            landscape = LandscapeCommand.interpolation(engine, ModelSpec.standard(o.model),
                    RunCheckpoints.newest(out.resolve("checkpoints").resolve(LANDSCAPE_FROM)),
                    RunCheckpoints.newest(out.resolve("checkpoints").resolve(LANDSCAPE_TO)), diagnosed, LANDSCAPE_ALPHAS);
            landscapeSeconds = (System.nanoTime() - landscapeStart) / 1e9;
            config = new LinkedHashMap<>();
            config.put("engine", engine.name());
            config.put("device", engine.device());
            config.put("quick", quick);
            config.putAll(o.describe());
        }
        w.println();
        w.printf(Locale.ROOT, "%-14s %14s %14s %10s %11s %9s %11s%n", "optimizer", "final test acc", "best test acc",
                "seconds", "lambda_max", "trace", "rho-sharp");
        for (TrainingRun.Result r : results) {
            double best = r.history().stream().mapToDouble(TrainingRun.Epoch::testAccuracy).max().orElse(0);
            Map<?, ?> f = finalSharpness(r);
            w.printf(Locale.ROOT, "%-14s %14.4f %14.4f %10.1f %11.4g %9.4g %11.4g%n", r.optimizer(), r.testAccuracy(), best,
                    r.seconds(), Diagnosis.number(f, "lambdaMax", "value"), Diagnosis.number(f, "trace", "value"),
                    Diagnosis.number(f, "sharpness", "ascent"));
        }
        w.printf(Locale.ROOT, "(curvature of each final model's training loss on the first %d training images, clean labels; "
                + "rho-sharpness: largest loss increase found within rho = %s; docs/diagnostics.md)%n", diagnosis.images(),
                diagnosis.rho());
        w.printf(Locale.ROOT, "loss from %s (0) to %s (1): %.4f at 0, %.4f at 1, highest in between %.4f%n", LANDSCAPE_FROM,
                LANDSCAPE_TO, LandscapeCommand.lossAt(landscape, 0), LandscapeCommand.lossAt(landscape, 1),
                LandscapeCommand.highestBetween(landscape));
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("config", config);
        List<Object> runs = new ArrayList<>();
        for (TrainingRun.Result r : results) {
            Map<String, Object> run = new LinkedHashMap<>(Reports.run(Map.of("optimizer", r.optimizer()), r));
            run.put("sharpness", finalSharpness(r));
            runs.add(run);
        }
        report.put("runs", runs);
        report.put("sharpnessSettings", diagnosis.toMap());
        Map<String, Object> between = new LinkedHashMap<>();
        between.put("from", LANDSCAPE_FROM);
        between.put("to", LANDSCAPE_TO);
        between.putAll(landscape.toMap());
        report.put("landscape", between);
        Reports.write(out.resolve("report.json"), report);
        String title = String.format(Locale.ROOT, "Fashion-MNIST, %d images, %.0f%% label noise", o.limit, o.noise * 100);
        Charts.testAccuracyPerEpoch(results, title, out.resolve("test-accuracy.png"));
        Charts.finalAccuracy(results, title, out.resolve("final-accuracy.png"));
        Charts.lossCurves(Map.of("training loss", landscape), title + ": between two solutions", "α: 0 = "
                + LANDSCAPE_FROM + "'s final model, 1 = " + LANDSCAPE_TO + "'s", out.resolve("landscape.png"));
        // The picture of the landscape, in a run of its own (drawn anew each time, a resumed demo too).
        Path landscapeRun = out.resolve(TENSORBOARD).resolve("landscape");
        SummaryWriter.clear(landscapeRun);
        try (SummaryWriter board = SummaryWriter.open(landscapeRun)) {
            TrainingRun.Result to = results.stream().filter(r -> r.optimizer().equals(LANDSCAPE_TO)).findFirst()
                    .orElseThrow();
            board.addImage("landscape/" + LANDSCAPE_FROM + "_to_" + LANDSCAPE_TO,
                    Files.readAllBytes(out.resolve("landscape.png")), (long) to.history().size() * TrainingRun.stepsPerEpoch(o, train.size()));
        } catch (IOException e) {
            throw new OutputFiles.OutputException("cannot read " + out.resolve("landscape.png") + ": " + e.getMessage());
        }
        double diagnostics = landscapeSeconds;
        for (TrainingRun.Result r : results) {
            diagnostics += Diagnosis.seconds(finalSharpness(r));
        }
        double total = (System.nanoTime() - begun) / 1e9;
        w.printf(Locale.ROOT, "the diagnostics and the landscape took %.1f s of the demo's %.1f s (%.0f %% on top of the rest)%n",
                diagnostics, total, 100 * diagnostics / (total - diagnostics));
        w.println("wrote " + out.resolve("report.json") + ", " + out.resolve("test-accuracy.png") + ", "
                + out.resolve("final-accuracy.png") + ", " + out.resolve("landscape.png") + "; TensorBoard: "
                + "tensorboard --logdir " + out.resolve(TENSORBOARD));
        w.flush();
        return 0;
    }

    /** The diagnostics of a run's final model (its last epoch's). */
    private static Map<?, ?> finalSharpness(TrainingRun.Result r) {
        return r.history().get(r.history().size() - 1).sharpness();
    }
}
