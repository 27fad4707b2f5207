package io.github.agnosticsam.examples;

import io.github.agnosticsam.io.Json;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.Optimizer;
import io.github.agnosticsam.optim.Optimizers;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.training.Checkpoint;
import io.github.agnosticsam.training.CheckpointException;
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
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

/** One training run on Fashion-MNIST. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Trains a standard model on Fashion-MNIST with one optimizer and reports the test accuracy.")
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--engine", paramLabel = "NAME", description = "Engine (default: the default engine).")
    String engineName;

    @Mixin
    EngineOptionsMixin engineOptions;

    @Option(names = "--optimizer", paramLabel = "NAME", defaultValue = "agnostic-sam",
            completionCandidates = Names.OptimizerNames.class,
            description = "${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    String optimizer;

    @Mixin
    RunOptions run;

    @Mixin
    DataOption data;

    @Option(names = "--json", paramLabel = "FILE", description = "Write config, per-epoch history and test accuracy as JSON.")
    Path json;

    @Option(names = "--checkpoint", paramLabel = "DIR",
            description = "Write a checkpoint after every epoch (and every --checkpoint-every steps) into DIR, one safetensors file each, docs/checkpoints.md.")
    Path checkpointDir;

    @Option(names = "--checkpoint-every", paramLabel = "STEPS",
            description = "Also write a checkpoint every STEPS steps (default: after each epoch only).")
    Long checkpointEvery;

    @Option(names = "--keep", paramLabel = "N", description = "How many checkpoints to keep, the newest (default: 3).")
    Integer keep;

    @Option(names = "--resume", paramLabel = "DIR",
            description = "Continue the run whose checkpoints are in DIR from the newest, to the result the run would have had "
                    + "without the break. Its options come from the checkpoint: give none that contradicts it. Checkpoints go on into DIR "
                    + "(after each epoch; give --checkpoint-every again for more). It runs on the checkpoint's engine; --engine, "
                    + "--device and --threads may differ (bit for bit needs the same).")
    Path resume;

    @Option(names = "--sharpness-every", paramLabel = "N",
            description = "Measure lambda_max, the Hessian's trace and rho-sharpness after every N epochs and the last, as "
                    + "the sharpness command does with its defaults (docs/diagnostics.md); they go into --json's history.")
    Integer sharpnessEvery;

    @Option(names = "--sharpness-images", paramLabel = "N", defaultValue = "" + Diagnosis.IMAGES,
            description = "The first N training images (clean labels) the series is measured on (default: ${DEFAULT-VALUE}).")
    int sharpnessImages;

    @Option(names = "--tensorboard", paramLabel = "DIR",
            description = "Log the run for TensorBoard into a folder of its own in DIR (tensorboard --logdir DIR shows "
                    + "every run there side by side), docs/tensorboard.md. A resumed run goes on in its folder.")
    Path tensorboard;

    @Option(names = "--tensorboard-every", paramLabel = "STEPS", defaultValue = "10",
            description = "Steps between the per-step figures logged (default: ${DEFAULT-VALUE}).")
    int tensorboardEvery;

    @Spec
    CommandSpec spec;

    /**
     * Set by {@link ClusterTrain}: this process runs one replica of a run spread over processes (it
     * reads no --checkpoint, --json or --resume of its own but for the local copy of the checkpoint
     * to resume from), writes checkpoints to {@code clusterSink} (replica 0's; null for the others)
     * and its report into {@code clusterReport}. Null for a run of this process alone.
     */
    TrainingRun.Member clusterMember;
    CheckpointSink clusterSink;
    StringBuilder clusterReport;

    @Override
    public Integer call() {
        TrainingRun.Resumed resumed = resume == null ? null : TrainingRun.Resumed.newest(resume);
        Checkpoint from = resumed == null ? null : resumed.checkpoint;
        if (from != null) {
            adopt(resumed.file, from);
        }
        Path fromFile = resumed == null ? null : resumed.file;
        checkOptions(fromFile);
        engineOptions.check();
        if (tensorboard != null && clusterMember == null) {
            OutputFiles.checkFolder("--tensorboard", tensorboard);
        }
        Diagnosis.Settings sharpness = Diagnosis.Settings.defaults().withImages(sharpnessImages);
        CheckpointSink where = clusterMember != null ? clusterSink : localCheckpoints();
        // Resumed without --engine: on the checkpoint's engine, not the default (it would change the numbers).
        String engineChosen = engineName != null || from == null ? engineName : from.engine();
        int images = ImageDataset.declaredSize(data.dir, true);
        if (resumed != null && TrainingRun.stepsPerEpoch(run, images) > 0) {
            resumed.check(TrainingRun.stepsPerEpoch(run, images), run.epochs); // before any work, not after the load
        }
        Optimizer built = checkpointsFault(fromFile, () -> TrainingRun.optimizer(optimizer, run,
                TrainingRun.totalSteps(run, images)));
        ImageDataset train = ImageDataset.load(data.dir, true);
        ImageDataset test = ImageDataset.load(data.dir, false);
        TrainingRun.SharpnessSeries series = sharpnessEvery == null ? TrainingRun.SharpnessSeries.NONE
                : new TrainingRun.SharpnessSeries(sharpnessEvery, Diagnosis.batches(train, ModelSpec.standard(run.model),
                        "--sharpness-images", sharpness.images(), sharpness.batch()), sharpness);
        PrintWriter out = spec.commandLine().getOut();
        try (Engine engine = engineOptions.create(engineChosen)) {
            out.printf(Locale.ROOT, "engine %s on %s%s; %s, %s%n", engine.name(), engine.device(),
                    engineName == null && from != null ? " (the checkpoint's; --engine NAME for another)" : "",
                    run.model, optimizer);
            out.flush();
            if (from != null) {
                out.printf(Locale.ROOT, "resuming from step %d (%s, written by %s)%n", from.steps(), resume, from.engine());
            }
            Map<String, String> recorded = recordedOptions();
            TrainingRun.Board board = null;
            if (tensorboard != null) {
                String runName = from == null ? null : TrainingRun.recordedBoardRun(from);
                if (runName == null) {
                    runName = String.format(Locale.ROOT, "%s-%s-%s", optimizer, run.model,
                            java.time.LocalDateTime.now().format(java.time.format.DateTimeFormatter.ofPattern(
                                    "yyyyMMdd-HHmmss", Locale.ROOT)));
                }
                // Resumed, the log goes on at the run's cadence unless told otherwise.
                int every = from != null && !spec.commandLine().getParseResult().hasMatchedOption("--tensorboard-every")
                        ? TrainingRun.recordedBoardEvery(from, tensorboardEvery) : tensorboardEvery;
                recorded.put(TrainingRun.BOARD_RUN, runName);
                recorded.put(TrainingRun.BOARD_EVERY, Integer.toString(every));
                board = new TrainingRun.Board(tensorboard.resolve(runName), every);
                out.println("TensorBoard: " + board.dir());
            }
            TrainingRun.Result r = TrainingRun.run(engine, optimizer, built, run, train, test, clusterMember == null,
                    new TrainingRun.Checkpointing(where, resumed, recorded), series, clusterMember, board);
            out.printf(Locale.ROOT, "test accuracy %.4f (%.1f s)%n", r.testAccuracy(), r.seconds());
            TrainingRun.Epoch last = r.history().get(r.history().size() - 1);
            if (last.sharpness() != null) {
                out.printf(Locale.ROOT, "after epoch %d: %s%n", last.epoch(), Diagnosis.summary(last.sharpness()));
            }
            if (json != null || clusterReport != null) {
                Map<String, Object> config = new LinkedHashMap<>();
                config.put("engine", engine.name());
                config.put("device", engine.device());
                config.put("threads", engineOptions.threads);
                config.put("optimizer", optimizer);
                config.putAll(run.describe());
                config.put("data", data.dir.toString());
                config.put("resumedFrom", from == null ? null : from.steps());
                config.put("sharpnessEvery", sharpnessEvery);
                config.put("sharpness", sharpnessEvery == null ? null : sharpness.toMap());
                if (clusterReport != null) {
                    clusterReport.append(Json.write(Reports.run(config, r), true));
                } else {
                    Reports.write(json, Reports.run(config, r));
                    out.println("wrote " + json);
                }
            }
        }
        return 0;
    }

    /**
     * The local folder a run writes its checkpoints to (--checkpoint, or --resume's to go on in), or
     * null; checked before any work: distinct from the inputs and outputs, writable, and holding no
     * other run's checkpoints.
     */
    private RunCheckpoints localCheckpoints() {
        Path dir = checkpointDir != null ? checkpointDir : resume;
        if (dir == null && (checkpointEvery != null || keep != null)) {
            throw new IllegalArgumentException("--checkpoint-every and --keep need --checkpoint DIR");
        }
        RunCheckpoints where = dir == null ? null
                : new RunCheckpoints(dir, checkpointEvery == null ? 0 : checkpointEvery, keep == null ? 3 : keep);
        List<OutputFiles.Use> outputs = new ArrayList<>(List.of(OutputFiles.Use.file("--json", json)));
        if (where != null) {
            outputs.add(new OutputFiles.Use("a checkpoint of " + dir, null, where::owns));
        }
        List<OutputFiles.Use> inputs = new ArrayList<>(data.inputs());
        if (resume != null) { // the run resumed from is read, wherever its checkpoints go on
            inputs.add(new OutputFiles.Use("a checkpoint of the run resumed from " + resume, null,
                    new RunCheckpoints(resume, 0, 1)::owns));
        }
        OutputFiles.checkDistinct(inputs, outputs);
        OutputFiles.checkWritable(json);
        if (where != null) {
            if (!where.isEmpty() && (resume == null || !OutputFiles.same(dir, resume))) {
                throw new IllegalArgumentException("--checkpoint " + dir + " already holds checkpoints of a run: continue "
                        + "it with --resume " + dir + ", or give an empty folder");
            }
            where.prepare();
        }
        return where;
    }

    /** The options that define the run: recorded in each checkpoint, taken from it by --resume. */
    private List<OptionSpec> runOptions() {
        List<OptionSpec> options = new ArrayList<>(spec.mixins().get("run").options());
        options.add(spec.findOption("--optimizer"));
        options.add(spec.findOption("--data"));
        options.addAll(laterOptions());
        return options;
    }

    /**
     * Options recorded since the sharpness series and data-parallel runs: a checkpoint written before
     * them has them unset (a run without a series, of one replica).
     */
    private List<OptionSpec> laterOptions() {
        return List.of(spec.findOption("--sharpness-every"), spec.findOption("--sharpness-images"),
                spec.findOption("--replicas"));
    }

    private Map<String, String> recordedOptions() {
        Map<String, String> m = new LinkedHashMap<>();
        for (OptionSpec o : runOptions()) {
            m.put(o.longestName(), o.getValue() == null ? null : o.getValue().toString());
        }
        return m;
    }

    /**
     * Every check of the options that needs no data, file or engine (what a launcher on another
     * machine can check before the run starts): the run's, the optimizer's hyperparameters (built
     * once here), --val-batch against --replicas, and the options that need others.
     */
    void checkOptions(Path fromFile) {
        checkRun(fromFile);
        Optimizer probe = checkpointsFault(fromFile, () -> TrainingRun.optimizer(optimizer, run, 1));
        boolean validation = probe.passes().stream().anyMatch(io.github.agnosticsam.spi.Pass::usesValidationBatch);
        if (validation && run.valBatch % run.replicas != 0) {
            throw new IllegalArgumentException("--val-batch " + run.valBatch + " is not a multiple of --replicas "
                    + run.replicas + ": every replica takes an equal share of each validation batch");
        }
        if (tensorboardEvery < 1) {
            throw new IllegalArgumentException("--tensorboard-every must be >= 1 (steps), got " + tensorboardEvery);
        }
        if (sharpnessEvery == null && spec.commandLine().getParseResult().hasMatchedOption("--sharpness-images")) {
            throw new IllegalArgumentException("--sharpness-images " + sharpnessImages + " needs --sharpness-every N");
        }
    }

    /** Checks the run's options before any work (the optimizer's are checked when it is built). */
    private void checkRun(Path fromFile) {
        checkpointsFault(fromFile, () -> {
            run.check();
            if (sharpnessEvery != null && sharpnessEvery < 1) {
                throw new IllegalArgumentException("--sharpness-every must be >= 1 (epochs), got " + sharpnessEvery);
            }
            if (!Optimizers.names().contains(optimizer)) {
                throw new IllegalArgumentException("--optimizer must be one of " + String.join(", ", Optimizers.names())
                        + ", got '" + optimizer + "'");
            }
            return null;
        });
    }

    /**
     * Runs a check of the run's options; resumed, they are the checkpoint's, so one that makes no
     * valid run is the checkpoint's fault, named with its file.
     */
    private static <T> T checkpointsFault(Path fromFile, java.util.function.Supplier<T> check) {
        try {
            return check.get();
        } catch (IllegalArgumentException e) {
            if (fromFile == null) {
                throw e;
            }
            throw new CheckpointException(fromFile + ": its " + TrainingRun.OPTIONS + " make no valid run: "
                    + e.getMessage());
        }
    }

    /**
     * Takes the run's options from the checkpoint; one given on the command line must agree with it
     * (another --epochs, say, would change the cosine schedule the run was on). Each recorded value
     * must be text (or null) that its option takes.
     */
    private void adopt(Path file, Checkpoint from) {
        Object parsed;
        try {
            parsed = Json.parse(from.extra().get(TrainingRun.OPTIONS));
        } catch (RuntimeException e) {
            parsed = null;
        }
        if (!(parsed instanceof Map<?, ?> recorded)) {
            throw new CheckpointException(file + ": no valid " + TrainingRun.OPTIONS + " entry: was it written by train?");
        }
        ParseResult given = spec.commandLine().getParseResult();
        for (OptionSpec o : runOptions()) {
            String name = o.longestName();
            if (!recorded.containsKey(name) && laterOptions().contains(o)) {
                continue; // written before the option existed: as given (a run without a series, of one replica)
            }
            if (!recorded.containsKey(name)) {
                throw new CheckpointException(file + ": " + TrainingRun.OPTIONS + " does not record " + name);
            }
            if (!(recorded.get(name) == null || recorded.get(name) instanceof String)) {
                throw new CheckpointException(file + ": " + TrainingRun.OPTIONS + " \"" + name + "\" must be text "
                        + "or null, got " + Json.write(recorded.get(name)));
            }
            String saved = (String) recorded.get(name);
            String now = o.getValue() == null ? null : o.getValue().toString();
            if (given.hasMatchedOption(o)) {
                if (!java.util.Objects.equals(saved, now)) {
                    throw new IllegalArgumentException(name + " " + now + " contradicts the run being resumed, which has "
                            + name + " " + (saved == null ? "unset" : saved)
                            + ": leave it out to continue the run as it was (start a new run to change it)");
                }
            } else {
                try {
                    o.setValue(value(saved, o.type()));
                } catch (RuntimeException e) { // NumberFormatException, InvalidPathException
                    throw new CheckpointException(file + ": " + TrainingRun.OPTIONS + " \"" + name + "\" is \"" + saved
                            + "\", which " + name + " does not take (" + o.type().getSimpleName() + ")");
                }
            }
        }
    }

    private static Object value(String text, Class<?> type) {
        if (text == null) {
            return null;
        }
        if (type == String.class) {
            return text;
        }
        if (type == Path.class) {
            return Path.of(text);
        }
        if (type == double.class || type == Double.class) {
            return Double.valueOf(text);
        }
        if (type == int.class || type == Integer.class) {
            return Integer.valueOf(text);
        }
        if (type == long.class || type == Long.class) {
            return Long.valueOf(text);
        }
        throw new IllegalStateException("no conversion for an option of type " + type);
    }
}
