package io.github.agnosticsam.examples;

import io.github.agnosticsam.diagnostics.Curvature;
import io.github.agnosticsam.io.Json;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.Evaluation;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.Optimizer;
import io.github.agnosticsam.optim.Optimizers;
import io.github.agnosticsam.optim.Schedule;
import io.github.agnosticsam.optim.Sgd;
import io.github.agnosticsam.spi.Collective;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.tensorboard.TensorBoardListener;
import io.github.agnosticsam.training.BadValuePolicy;
import io.github.agnosticsam.training.Checkpoint;
import io.github.agnosticsam.training.CheckpointException;
import io.github.agnosticsam.training.DataParallelTraining;
import io.github.agnosticsam.training.StepListener;
import io.github.agnosticsam.training.StepResult;
import io.github.agnosticsam.training.Training;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** One training run on Fashion-MNIST: what {@code train} does once and {@code demo} three times. */
final class TrainingRun {
    private static final int EVALUATION_CHUNK = 2000;

    /** One epoch's figures; {@code sharpness} is {@link Diagnosis.Figures#toMap()}, or null when not measured. */
    record Epoch(int epoch, double trainLoss, double trainAccuracy, double testAccuracy, double seconds,
            Map<?, ?> sharpness) {
        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("epoch", epoch);
            m.put("trainLoss", trainLoss);
            m.put("trainAccuracy", trainAccuracy);
            m.put("testAccuracy", testAccuracy);
            m.put("seconds", seconds);
            if (sharpness != null) {
                m.put("sharpness", sharpness);
            }
            return m;
        }
    }

    /**
     * {@code train --sharpness-every}: after every {@code every}-th epoch (and the last), {@link
     * Diagnosis#measure} on {@code batches} — measured apart from the epoch's seconds; the parameters
     * come back bit for bit, so the run goes on as without it.
     */
    record SharpnessSeries(int every, List<Batch> batches, Diagnosis.Settings settings) {
        static final SharpnessSeries NONE = new SharpnessSeries(0, List.of(), null);

        boolean at(int epoch, int epochs) {
            return every > 0 && (epoch % every == 0 || epoch == epochs);
        }
    }

    record Result(String optimizer, List<Epoch> history, double testAccuracy, double seconds) {
    }

    private TrainingRun() {
    }

    static Optimizer optimizer(String name, RunOptions o, long totalSteps) {
        Sgd base = Sgd.builder().lr(Schedule.cosine(o.lr, totalSteps)).momentum(o.momentum).weightDecay(o.weightDecay)
                .build();
        Optimizers.Builder b = Optimizers.named(name).base(base);
        if (o.rho != null) {
            b.rho(o.rho);
        }
        if (o.rho1 != null) {
            b.rho1(o.rho1);
        }
        if (o.rho2 != null) {
            b.rho2(o.rho2);
        }
        if (o.eta != null) {
            b.eta(o.eta);
        }
        return b.build();
    }

    /**
     * Where a run writes its checkpoints (or null), the checkpoint it resumes from (or null) and its
     * configuration as option texts, recorded in each checkpoint.
     */
    record Checkpointing(CheckpointSink where, Resumed from, Map<String, String> options) {
    }

    /**
     * The steps of a run on {@code images} training images (before --limit): the length of its cosine
     * schedule, known from the training file's header before the images are read. At least 1: a run
     * too short for one step is refused when its images are read, after their own checks.
     */
    static long totalSteps(RunOptions o, int images) {
        return Math.max(1, (long) stepsPerEpoch(o, images) * o.epochs);
    }

    /** The steps of one epoch on {@code images} training images (before --limit); 0 when a batch needs more. */
    static int stepsPerEpoch(RunOptions o, int images) {
        return (o.limit > 0 ? Math.min(o.limit, images) : images) / o.batch;
    }

    /**
     * Trains {@code optimizer} (built for {@link #totalSteps}) under the name {@code optimizerName};
     * with a checkpoint to resume from, continues it to the result the uninterrupted run gives, and
     * measures sharpness as {@code series} says. The batch order and the validation draws come from
     * one stream seeded by --seed, which a resumed run replays up to the checkpoint's step (cheap: no
     * batch is built), so they are the same as without the break, mid-epoch too.
     */
    static Result run(Engine engine, String optimizerName, Optimizer optimizer, RunOptions o, ImageDataset trainSet,
            ImageDataset testSet, boolean progress, Checkpointing checkpointing, SharpnessSeries series) {
        return run(engine, optimizerName, optimizer, o, trainSet, testSet, progress, checkpointing, series, null, null);
    }

    /**
     * This process's replica of a run whose --replicas run in several processes or machines: its
     * rank and the group the replicas meet in once per step.
     */
    record Member(int rank, Collective group) {
    }

    /**
     * A run's TensorBoard log (docs/tensorboard.md): its folder, and the steps between logged steps.
     * A resumed run continues the folder's stream after the checkpoint's step.
     */
    record Board(Path dir, int every) {
    }

    /**
     * As above; with a {@code member}, this process runs only that replica (it takes its shard of
     * every global batch), the others run elsewhere with the same options and data.
     */
    static Result run(Engine engine, String optimizerName, Optimizer optimizer, RunOptions o, ImageDataset trainSet,
            ImageDataset testSet, boolean progress, Checkpointing checkpointing, SharpnessSeries series,
            Member member, Board board) {
        ModelSpec spec = ModelSpec.standard(o.model);
        ImageDataset data = trainSet.subset(o.limit, o.seed).withNoise(o.noise, o.seed + 1);
        int stepsPerEpoch = data.size() / o.batch;
        if (stepsPerEpoch == 0) {
            throw new IllegalArgumentException("--batch " + o.batch + " is larger than the " + data.size()
                    + " training images");
        }
        if (totalSteps(o, trainSet.size()) != (long) stepsPerEpoch * o.epochs) {
            throw new IllegalStateException("the optimizer was built for another length of run");
        }
        SplittableRandom random = new SplittableRandom(o.seed + 2);
        List<Epoch> history = new ArrayList<>();
        double secondsBefore = 0;
        double runSeconds;
        long started = System.nanoTime();
        try (Replicas training = member == null ? Replicas.inProcess(engine, spec, o, optimizer)
                : Replicas.member(engine, spec, o, optimizer, member);
                Meter meter = new Meter(training.network(), series);
                TensorBoardListener log = board == null ? null : board(board, optimizer, checkpointing)) {
            Network network = training.network(); // every replica holds the same values after each step
            if (log != null) {
                training.listen(log);
            }
            if (training.program().usesValidationBatch() && o.valBatch % o.replicas != 0) {
                throw new IllegalArgumentException("--val-batch " + o.valBatch + " is not a multiple of --replicas "
                        + o.replicas + ": every replica takes an equal share of each validation batch");
            }
            Resumed from = checkpointing.from();
            double resumedLossSum = 0;
            if (from != null) {
                from.check(stepsPerEpoch, o.epochs);
                history.addAll(from.history);
                resumedLossSum = from.lossSum;
                secondsBefore = from.seconds;
                training.restore(from.checkpoint);
            }
            long done = training.steps();
            boolean validation = training.program().usesValidationBatch();
            int[] all = new int[data.size()];
            for (int i = 0; i < all.length; i++) {
                all[i] = i;
            }
            for (int epoch = 1; epoch <= o.epochs; epoch++) {
                long epochStart = System.nanoTime();
                int[] order = ImageDataset.permutation(data.size(), random);
                long firstStep = (long) (epoch - 1) * stepsPerEpoch;
                boolean finished = firstStep + stepsPerEpoch <= done;
                double lossSum = firstStep < done && !finished ? resumedLossSum : 0;
                try (ProgressBar bar = progress && !finished ? bar(optimizerName, epoch, o.epochs, stepsPerEpoch) : null) {
                    for (int s = 0; s < stepsPerEpoch; s++) {
                        int[] picks = validation ? validationPicks(random, o.valBatch, data.size()) : null;
                        if (firstStep + s < done) {
                            continue; // replayed: this step's draws are taken, its work was done before the break
                        }
                        Batch train = data.batch(order, s * o.batch, o.batch, spec);
                        Batch val = picks == null ? null : data.batch(picks, 0, picks.length, spec);
                        double loss = training.step(train, val).loss();
                        lossSum += loss;
                        if (bar != null) {
                            bar.stepTo(s + 1);
                            bar.setExtraMessage(String.format(Locale.ROOT, " loss %.3f", lossSum / (s + 1)));
                        }
                        CheckpointSink where = checkpointing.where();
                        if (where != null && where.every() > 0 && training.steps() % where.every() == 0
                                && s + 1 < stepsPerEpoch) { // the epoch's own checkpoint comes after its evaluation
                            if (log != null) { // what a resume keeps of the log must be on disk with the checkpoint
                                log.writer().flush();
                            }
                            where.save(checkpoint(training, checkpointing, history, lossSum,
                                    secondsBefore + (System.nanoTime() - started - meter.nanos) / 1e9));
                        }
                    }
                    if (finished) {
                        continue;
                    }
                    double trainAccuracy = evaluate(network, data, all).accuracy();
                    double testAccuracy = evaluate(network, testSet, null).accuracy();
                    double seconds = (System.nanoTime() - epochStart) / 1e9;
                    Map<?, ?> sharpness = series.at(epoch, o.epochs) ? meter.measure() : null;
                    history.add(new Epoch(epoch, lossSum / stepsPerEpoch, trainAccuracy, testAccuracy, seconds,
                            sharpness));
                    if (log != null) {
                        logEpoch(log, history.get(history.size() - 1), training.steps(), network);
                    }
                    if (checkpointing.where() != null) {
                        checkpointing.where().save(checkpoint(training, checkpointing, history, 0,
                                secondsBefore + (System.nanoTime() - started - meter.nanos) / 1e9));
                    }
                    if (bar != null) {
                        bar.setExtraMessage(String.format(Locale.ROOT, " loss %.3f train %.3f test %.3f %.0f/s",
                                lossSum / stepsPerEpoch, trainAccuracy, testAccuracy, stepsPerEpoch / seconds));
                    }
                }
            }
            Epoch last = history.get(history.size() - 1);
            if (series.every() > 0 && last.sharpness() == null) {
                // Resumed from a run that finished without the series: its final model is measured now.
                history.set(history.size() - 1, new Epoch(last.epoch(), last.trainLoss(), last.trainAccuracy(),
                        last.testAccuracy(), last.seconds(), meter.measure()));
                if (log != null) {
                    logSharpness(log, history.get(history.size() - 1).sharpness(), training.steps());
                }
            }
            runSeconds = secondsBefore + (System.nanoTime() - started - meter.nanos) / 1e9;
        }
        return new Result(optimizerName, history, history.get(history.size() - 1).testAccuracy(), runSeconds);
    }

    /**
     * The replicas a run steps: every one in this process ({@link DataParallelTraining}), or this
     * process's one of a group ({@link Training#replica}), seen through the operations the run uses.
     * Each takes the global batches; after each step every replica holds the same values, so {@code
     * network} is any replica's.
     */
    private record Replicas(Network network, StepProgram program, BiFunction<Batch, Batch, StepResult> stepper,
            LongSupplier counter, Consumer<Checkpoint> restorer, Function<Map<String, String>, Checkpoint> checkpointer,
            Consumer<StepListener> listener, Runnable closer) implements AutoCloseable {

        StepResult step(Batch train, Batch validation) {
            return stepper.apply(train, validation);
        }

        long steps() {
            return counter.getAsLong();
        }

        void restore(Checkpoint checkpoint) {
            restorer.accept(checkpoint);
        }

        Checkpoint checkpoint(Map<String, String> extra) {
            return checkpointer.apply(extra);
        }

        void listen(StepListener l) {
            listener.accept(l);
        }

        @Override
        public void close() {
            closer.run();
        }

        static Replicas inProcess(Engine engine, ModelSpec spec, RunOptions o, Optimizer optimizer) {
            List<Network> networks = new ArrayList<>(o.replicas);
            DataParallelTraining t;
            try {
                for (int k = 0; k < o.replicas; k++) {
                    networks.add(engine.build(spec, spec.initialParameters(o.seed)));
                }
                t = DataParallelTraining.start(networks, optimizer, BadValuePolicy.THROW);
            } catch (RuntimeException | Error e) {
                networks.forEach(Network::close);
                throw e;
            }
            return new Replicas(networks.get(0), t.program(), t::step, t::steps, t::restore, t::checkpoint, t::listen,
                    () -> {
                        t.close();
                        networks.forEach(Network::close);
                    });
        }

        static Replicas member(Engine engine, ModelSpec spec, RunOptions o, Optimizer optimizer, Member member) {
            if (member.group().size() != o.replicas || member.rank() < 0 || member.rank() >= o.replicas) {
                throw new IllegalArgumentException("replica " + member.rank() + " of a group of " + member.group().size()
                        + " cannot run a run of --replicas " + o.replicas);
            }
            Network network = engine.build(spec, spec.initialParameters(o.seed));
            Training t;
            try {
                t = Training.replica(network, optimizer, BadValuePolicy.THROW, member.group());
            } catch (RuntimeException | Error e) {
                network.close();
                throw e;
            }
            int rank = member.rank();
            int n = o.replicas;
            // This replica's shard of each global batch.
            BiFunction<Batch, Batch, StepResult> shards = (train, validation) -> t.step(train.shard(rank, n, "train"),
                    validation == null ? null : validation.shard(rank, n, "validation"));
            return new Replicas(network, t.program(), shards, t::steps, t::restore, t::checkpoint, t::listen, () -> {
                t.close();
                network.close();
            });
        }
    }

    /** Opens the run's TensorBoard log: a new run with its options as text, or the resumed run's stream after its step. */
    private static TensorBoardListener board(Board board, Optimizer optimizer, Checkpointing checkpointing) {
        Resumed from = checkpointing.from();
        if (from != null) {
            return TensorBoardListener.resume(board.dir(), from.checkpoint.steps(), optimizer, board.every());
        }
        TensorBoardListener log = TensorBoardListener.open(board.dir(), optimizer, board.every());
        StringBuilder table = new StringBuilder("| option | value |\n|---|---|\n");
        checkpointing.options().forEach((k, v) -> table.append("| ").append(k).append(" | ").append(v).append(" |\n"));
        log.writer().addText("hparams", table.toString(), 0);
        return log;
    }

    /** An epoch's figures, as report.json has them, and the parameters' histograms. */
    private static void logEpoch(TensorBoardListener log, Epoch e, long steps, Network network) {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("epoch/train_loss", e.trainLoss());
        m.put("epoch/train_accuracy", e.trainAccuracy());
        m.put("epoch/test_accuracy", e.testAccuracy());
        m.put("epoch/seconds", e.seconds());
        log.epoch(steps, m);
        log.parameters(steps, network);
        if (e.sharpness() != null) {
            logSharpness(log, e.sharpness(), steps);
        }
    }

    /** The series' figures: lambda_max, the trace and its standard error, rho-sharpness (one step and ascent). */
    private static void logSharpness(TensorBoardListener log, Map<?, ?> figures, long steps) {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("sharpness/lambda_max", Diagnosis.number(figures, "lambdaMax", "value"));
        m.put("sharpness/trace", Diagnosis.number(figures, "trace", "value"));
        m.put("sharpness/trace_standard_error", Diagnosis.number(figures, "trace", "standardError"));
        m.put("sharpness/rho_sharpness_one_step", Diagnosis.number(figures, "sharpness", "oneStep"));
        m.put("sharpness/rho_sharpness_ascent", Diagnosis.number(figures, "sharpness", "ascent"));
        log.epoch(steps, m);
    }

    /**
     * The series' diagnostics of one network: compiled at the first measurement and timed with it, so
     * that {@code nanos} (left out of the run's seconds) holds everything the series cost.
     */
    private static final class Meter implements AutoCloseable {
        private final Network network;
        private final SharpnessSeries series;
        private Curvature curvature;
        long nanos;

        Meter(Network network, SharpnessSeries series) {
            this.network = network;
            this.series = series;
        }

        Map<?, ?> measure() {
            long start = System.nanoTime();
            try {
                if (curvature == null) {
                    curvature = Curvature.of(network, series.batches(), series.settings().curvature());
                }
                return Diagnosis.measure(curvature, series.settings()).toMap();
            } finally {
                nanos += System.nanoTime() - start;
            }
        }

        @Override
        public void close() {
            if (curvature != null) {
                curvature.close();
            }
        }
    }

    /** Agnostic-SAM's validation batch of a step: drawn with replacement from the training subset. */
    private static int[] validationPicks(SplittableRandom random, int count, int size) {
        int[] picks = new int[count];
        for (int i = 0; i < picks.length; i++) {
            picks[i] = random.nextInt(size);
        }
        return picks;
    }

    static final String OPTIONS = "cli.options";
    /** The entry of {@link #OPTIONS} that names the run's TensorBoard folder (within --tensorboard DIR). */
    static final String BOARD_RUN = "tensorboardRun";

    /** The entry of {@link #OPTIONS} that holds the steps between the log's per-step figures. */
    static final String BOARD_EVERY = "tensorboardEvery";

    /** The TensorBoard run folder's name a checkpoint records, or null. */
    static String recordedBoardRun(Checkpoint checkpoint) {
        Object name = recorded(checkpoint, BOARD_RUN);
        return name instanceof String s && s.matches("[A-Za-z0-9._-]+") ? s : null;
    }

    /** The steps between the log's per-step figures a checkpoint records, or {@code otherwise}. */
    static int recordedBoardEvery(Checkpoint checkpoint, int otherwise) {
        Object every = recorded(checkpoint, BOARD_EVERY);
        try {
            int n = every instanceof String s ? Integer.parseInt(s) : otherwise;
            return n >= 1 ? n : otherwise;
        } catch (NumberFormatException e) {
            return otherwise;
        }
    }

    private static Object recorded(Checkpoint checkpoint, String key) {
        try {
            return Json.parse(checkpoint.extra().get(OPTIONS)) instanceof Map<?, ?> m ? m.get(key) : null;
        } catch (RuntimeException e) {
            return null;
        }
    }
    private static final String HISTORY = "cli.history";
    private static final String LOSS_SUM = "cli.epochLossSum";
    private static final String SECONDS = "cli.seconds";

    /** The run's state beside the step's: its options, the epochs done, the current epoch's loss sum. */
    private static Checkpoint checkpoint(Replicas training, Checkpointing checkpointing, List<Epoch> history,
            double lossSum, double seconds) {
        Map<String, String> extra = new LinkedHashMap<>();
        extra.put(OPTIONS, Json.write(checkpointing.options()));
        extra.put(HISTORY, Json.write(history.stream().map(Epoch::toMap).toList()));
        extra.put(LOSS_SUM, Double.toString(lossSum)); // Double.toString reads back to the same double
        extra.put(SECONDS, Double.toString(seconds));
        return training.checkpoint(extra);
    }

    /**
     * A checkpoint a run resumes from, with what it records of the run beside the step's state: read
     * and checked at once, so a bad value is an error naming the file and the entry before any work,
     * not a failure epochs later.
     */
    static final class Resumed {
        final Path file;
        final Checkpoint checkpoint;
        final List<Epoch> history = new ArrayList<>();
        final double lossSum;
        final double seconds;

        /** The newest checkpoint in a run's folder. */
        static Resumed newest(Path dir) {
            Path file = RunCheckpoints.newestFile(dir);
            return new Resumed(file, RunCheckpoints.read(file));
        }

        private Resumed(Path file, Checkpoint from) {
            this.file = file;
            this.checkpoint = from;
            lossSum = number(LOSS_SUM, "the loss sum of the epoch under way");
            seconds = number(SECONDS, "the seconds the run took");
            Object parsed;
            try {
                parsed = Json.parse(text(HISTORY));
            } catch (Json.JsonException e) {
                throw bad(HISTORY, "is not JSON (" + e.getMessage() + ")");
            }
            if (!(parsed instanceof List<?> epochs)) {
                throw bad(HISTORY, "must be a JSON array of epochs");
            }
            for (Object e : epochs) {
                history.add(epoch(e, history.size() + 1));
            }
        }

        /** The step and the epochs done fit the run (known from the data's size): within its steps, an entry per epoch done. */
        void check(int stepsPerEpoch, int epochs) {
            long total = (long) stepsPerEpoch * epochs;
            if (checkpoint.steps() > total) {
                throw new CheckpointException(file + ": it is at step " + checkpoint.steps() + ", beyond the run's last ("
                        + total + ": " + epochs + " epochs of " + stepsPerEpoch + " steps)");
            }
            if (history.size() != checkpoint.steps() / stepsPerEpoch) {
                throw bad(HISTORY, "holds " + history.size() + " epochs, but step " + checkpoint.steps() + " is after "
                        + checkpoint.steps() / stepsPerEpoch + " of " + stepsPerEpoch + " steps");
            }
        }

        private Epoch epoch(Object e, int expected) {
            String where = "epoch " + expected;
            if (!(e instanceof Map<?, ?> m) || !(m.get("epoch") instanceof BigDecimal n)
                    || n.compareTo(BigDecimal.valueOf(expected)) != 0) {
                throw bad(HISTORY, "entry " + expected + " must be an object with \"epoch\": " + expected);
            }
            double trainLoss = field(m, where, "trainLoss", Double.POSITIVE_INFINITY);
            double trainAccuracy = field(m, where, "trainAccuracy", 1);
            double testAccuracy = field(m, where, "testAccuracy", 1);
            double secs = field(m, where, "seconds", Double.POSITIVE_INFINITY);
            Object sharpness = m.get("sharpness");
            if (sharpness != null) {
                try {
                    Diagnosis.summary((Map<?, ?>) sharpness);
                } catch (RuntimeException bad) {
                    throw bad(HISTORY, where + ": \"sharpness\" is not what --sharpness-every measures");
                }
            }
            return new Epoch(expected, trainLoss, trainAccuracy, testAccuracy, secs, (Map<?, ?>) sharpness);
        }

        /** A member of an epoch: a finite number in [0, max]. */
        private double field(Map<?, ?> m, String where, String key, double max) {
            double v = m.get(key) instanceof BigDecimal n ? n.doubleValue() : Double.NaN;
            if (!(v >= 0 && v <= max && Double.isFinite(v))) {
                throw bad(HISTORY, where + ": \"" + key + "\" must be a finite number " + (max == 1 ? "in [0, 1]"
                        : ">= 0") + ", got " + (m.containsKey(key) ? Json.write(m.get(key)) : "nothing"));
            }
            return v;
        }

        /** A number entry: finite and >= 0. */
        private double number(String key, String what) {
            String text = text(key);
            double v;
            try {
                v = Double.parseDouble(text);
            } catch (NumberFormatException e) {
                v = Double.NaN;
            }
            if (!(v >= 0 && Double.isFinite(v))) {
                throw bad(key, "(" + what + ") must be a finite number >= 0, got \"" + text + "\"");
            }
            return v;
        }

        private String text(String key) {
            String text = checkpoint.extra().get(key);
            if (text == null) {
                throw bad(key, "is missing: was the checkpoint written by train?");
            }
            return text;
        }

        private CheckpointException bad(String key, String what) {
            return new CheckpointException(file + ": " + key + " " + what);
        }
    }

    private static ProgressBar bar(String optimizer, int epoch, int epochs, int steps) {
        return new ProgressBarBuilder().setTaskName(String.format(Locale.ROOT, "%-18s epoch %d/%d", optimizer, epoch, epochs))
                .setInitialMax(steps).setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250).setMaxRenderedLength(120)
                .continuousUpdate().showSpeed().build();
    }

    /** Loss and accuracy over a whole dataset (or the listed indices), in chunks. */
    static Evaluation evaluate(Network network, ImageDataset set, int[] indices) {
        int n = indices == null ? set.size() : indices.length;
        int[] order = indices;
        if (order == null) {
            order = new int[n];
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
        }
        double loss = 0;
        int correct = 0;
        for (int from = 0; from < n; from += EVALUATION_CHUNK) {
            int count = Math.min(EVALUATION_CHUNK, n - from);
            Evaluation e = network.evaluate(set.batch(order, from, count, network.model()));
            loss += e.loss() * count;
            correct += e.correct();
        }
        return new Evaluation(loss / n, correct, n);
    }
}
