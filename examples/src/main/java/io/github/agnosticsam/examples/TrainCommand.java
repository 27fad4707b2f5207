package io.github.agnosticsam.examples;

import io.github.agnosticsam.Engine;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** One training run on Fashion-MNIST. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Trains a standard model on Fashion-MNIST with one optimizer and reports the test accuracy.")
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--engine", paramLabel = "NAME", description = "Engine (default: the default engine).")
    String engineName;

    @Mixin
    EngineOptionsMixin engineOptions;

    @Option(names = "--optimizer", paramLabel = "NAME", defaultValue = "agnostic-sam",
            description = "sgd, sam, asam, agnostic-sam, agnostic-sam-fast, agnostic-asam, agnostic-asam-fast (default: ${DEFAULT-VALUE}).")
    String optimizer;

    @Mixin
    RunOptions run;

    @Mixin
    DataOption data;

    @Option(names = "--json", paramLabel = "FILE", description = "Write config, per-epoch history and test accuracy as JSON.")
    Path json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        run.check();
        engineOptions.check();
        TrainingRun.optimizer(optimizer, run, 1); // checks the name and radii before any work
        OutputFiles.checkWritable(json);
        ImageDataset train = ImageDataset.load(data.dir, true);
        ImageDataset test = ImageDataset.load(data.dir, false);
        PrintWriter out = spec.commandLine().getOut();
        try (Engine engine = engineOptions.create(engineName)) {
            out.printf(Locale.ROOT, "engine %s on %s; %s, %s%n", engine.name(), engine.device(), run.model, optimizer);
            out.flush();
            TrainingRun.Result r = TrainingRun.run(engine, optimizer, run, train, test, true);
            out.printf(Locale.ROOT, "test accuracy %.4f (%.1f s)%n", r.testAccuracy(), r.seconds());
            if (json != null) {
                Map<String, Object> config = new LinkedHashMap<>();
                config.put("engine", engine.name());
                config.put("device", engine.device());
                config.put("threads", engineOptions.threads);
                config.put("optimizer", optimizer);
                config.putAll(run.describe());
                config.put("data", data.dir.toString());
                Reports.write(json, Reports.run(config, r));
                out.println("wrote " + json);
            }
        }
        return 0;
    }
}
