package io.github.agnosticsam.examples;

import io.github.agnosticsam.Checkpoint;
import io.github.agnosticsam.CheckpointException;
import io.github.agnosticsam.Engine;
import io.github.agnosticsam.internal.Json;
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
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The main job: SGD, SAM and Agnostic-SAM on scarce, noisy Fashion-MNIST (5000 images, 40 % of their
 * labels replaced at random), where memorising the noise is what hurts and flat minima help.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Trains sgd, sam and agnostic-sam on 5000 Fashion-MNIST images with 40% label noise, prints a "
                + "comparison table and writes demo-report/ (report.json, PNG charts, and each run's checkpoint after "
                + "every epoch; --resume continues an interrupted demo).",
                "--quick runs a seconds-long version of the same."})
final class DemoCommand implements Callable<Integer> {
    static final List<String> OPTIMIZERS = List.of("sgd", "sam", "agnostic-sam");

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

    RunOptions settings() {
        RunOptions o = new RunOptions();
        o.model = "mlp";
        o.noise = 0.4;
        o.limit = quick ? 1000 : 5000;
        o.epochs = quick ? 3 : 40;
        o.batch = 128;
        o.valBatch = 32;
        o.lr = 0.05;
        o.momentum = 0.9;
        o.weightDecay = 5e-4;
        o.seed = seed;
        return o;
    }

    @Override
    public Integer call() {
        RunOptions o = settings();
        engineOptions.check();
        OutputFiles.checkWritable(out.resolve("report.json"), out.resolve("test-accuracy.png"),
                out.resolve("final-accuracy.png"), out.resolve("checkpoints").resolve("probe"));
        ImageDataset train = ImageDataset.load(data.dir, true);
        ImageDataset test = ImageDataset.load(data.dir, false);
        PrintWriter w = spec.commandLine().getOut();
        List<TrainingRun.Result> results = new ArrayList<>();
        Map<String, Object> config;
        try (Engine engine = engineOptions.create(engineName)) {
            w.printf(Locale.ROOT, "engine %s on %s; mlp, %d images, %.0f%% label noise, %d epochs%n", engine.name(),
                    engine.device(), o.limit, o.noise * 100, o.epochs);
            w.flush();
            for (String name : OPTIMIZERS) {
                RunCheckpoints where = new RunCheckpoints(out.resolve("checkpoints").resolve(name), 0, 1);
                Map<String, String> options = new LinkedHashMap<>();
                o.describe().forEach((k, v) -> options.put(k, String.valueOf(v)));
                options.put("optimizer", name);
                Checkpoint from = null;
                if (resume && !where.isEmpty()) {
                    from = RunCheckpoints.newest(where.dir());
                    if (!Json.write(options).equals(from.extra().get(TrainingRun.OPTIONS))) {
                        throw new CheckpointException("--resume: the checkpoints in " + where.dir() + " are of another "
                                + "demo (--quick or --seed differ): run it without --resume to start again");
                    }
                    w.printf(Locale.ROOT, "%s: resuming from step %d%n", name, from.steps());
                    w.flush();
                } else {
                    where.clear();
                }
                results.add(TrainingRun.run(engine, name, o, train, test, true,
                        new TrainingRun.Checkpointing(where, from, options)));
            }
            config = new LinkedHashMap<>();
            config.put("engine", engine.name());
            config.put("device", engine.device());
            config.put("quick", quick);
            config.putAll(o.describe());
        }
        w.println();
        w.printf(Locale.ROOT, "%-14s %14s %14s %10s%n", "optimizer", "final test acc", "best test acc", "seconds");
        for (TrainingRun.Result r : results) {
            double best = r.history().stream().mapToDouble(TrainingRun.Epoch::testAccuracy).max().orElse(0);
            w.printf(Locale.ROOT, "%-14s %14.4f %14.4f %10.1f%n", r.optimizer(), r.testAccuracy(), best, r.seconds());
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("config", config);
        List<Object> runs = new ArrayList<>();
        for (TrainingRun.Result r : results) {
            Map<String, Object> run = new LinkedHashMap<>(Reports.run(Map.of("optimizer", r.optimizer()), r));
            runs.add(run);
        }
        report.put("runs", runs);
        Reports.write(out.resolve("report.json"), report);
        String title = String.format(Locale.ROOT, "Fashion-MNIST, %d images, %.0f%% label noise", o.limit, o.noise * 100);
        Charts.testAccuracyPerEpoch(results, title, out.resolve("test-accuracy.png"));
        Charts.finalAccuracy(results, title, out.resolve("final-accuracy.png"));
        w.println("wrote " + out.resolve("report.json") + ", " + out.resolve("test-accuracy.png") + ", "
                + out.resolve("final-accuracy.png"));
        w.flush();
        return 0;
    }
}
