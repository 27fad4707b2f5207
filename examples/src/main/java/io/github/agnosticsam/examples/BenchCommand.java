package io.github.agnosticsam.examples;

import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.Optimizer;
import io.github.agnosticsam.spi.CompiledStep;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.training.BadValuePolicy;
import io.github.agnosticsam.training.DataParallelTraining;
import io.github.agnosticsam.training.ReplicaThreads;
import io.github.agnosticsam.training.StepPrograms;
import io.github.agnosticsam.training.Training;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Step time against the bare gradient evaluations of the step, per optimizer, on real data. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"For each optimizer, in its own phase: median step time, the median time of the bare "
                + "forward+backward passes the step needs (same batches, same run), their ratio, the process RSS, and the engine operations a step and its bare passes issue "
                + "(eager engines: tensor-algebra calls outside the gradient passes; graph engines: the graph nodes a run needs) "
                + "beside the model's parameter tensors, and minor page faults per bare pass.",
                "--soak N instead runs N steps of the first optimizer and reports RSS at the start and the end.",
                "Beside plain PyTorch eager, in interleaved rounds: /usr/bin/python3 benchmarks/compare.py "
                        + "(README, \"Benchmarks\")."})
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--engine", paramLabel = "NAME", description = "Engine (default: the default engine).")
    String engineName;

    @Mixin
    EngineOptionsMixin engineOptions;

    @Mixin
    DataOption data;

    @Option(names = "--model", paramLabel = "NAME[,NAME...]|all", split = ",", defaultValue = "mlp",
            description = "Standard models, docs/models.md; all: every one (default: ${DEFAULT-VALUE}).")
    List<String> models;

    @Option(names = "--batch", defaultValue = "128", description = "Train batch (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--val-batch", defaultValue = "32", description = "Validation batch (default: ${DEFAULT-VALUE}).")
    int valBatch;

    @Option(names = "--warmup", defaultValue = "20", description = "Unmeasured steps per phase, at least (default: ${DEFAULT-VALUE}).")
    int warmup;

    /**
     * The JIT needs time and calls, not 20 steps: djl's MLP steps took some 400 steps (2-3 s) to
     * settle, and 20 warm-up steps measured them 2x slow (docs/operations.md); see {@link #warmUp}.
     */
    @Option(names = "--warmup-seconds", defaultValue = "3", description = "Warm up each phase for at least this long too, "
            + "then until its time per step settles (default: ${DEFAULT-VALUE}).")
    double warmupSeconds;

    @Option(names = "--steps", defaultValue = "200", description = "Measured steps per phase (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--optimizers", split = ",", defaultValue = "sgd,sam,agnostic-sam-fast,agnostic-sam",
            description = "Comma-separated optimizer names (default: ${DEFAULT-VALUE}).")
    List<String> optimizers;

    @Option(names = "--soak", paramLabel = "N", description = "Run N steps of the first optimizer and report RSS at start and end.")
    Integer soak;

    @Option(names = "--ops-only", description = "Only count the engine operations of a step and of its bare passes (one step each, no timing).")
    boolean opsOnly;

    @Option(names = "--replicas", paramLabel = "N", defaultValue = "1",
            description = "Data-parallel steps of N replicas (threads, a network each) on the same global batches; "
                    + "also reports the operations the reduce point adds and the all-reduce of the model's gradient "
                    + "alone (default: ${DEFAULT-VALUE}).")
    int replicas;

    @Option(names = "--json", paramLabel = "FILE", description = "Write the figures as JSON.")
    Path json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        for (String[] c : new String[][] {{"--batch", "" + batch}, {"--val-batch", "" + valBatch},
                {"--steps", "" + steps}, {"--replicas", "" + replicas}}) {
            if (Integer.parseInt(c[1]) < 1) {
                throw new IllegalArgumentException(c[0] + " must be >= 1, got " + c[1]);
            }
        }
        ImageDataset.checkBatch("--batch", batch);
        ImageDataset.checkBatch("--val-batch", valBatch);
        if (batch % replicas != 0 || valBatch % replicas != 0) {
            throw new IllegalArgumentException("--batch " + batch + " and --val-batch " + valBatch
                    + " must be multiples of --replicas " + replicas + ": every replica takes an equal share");
        }
        if (replicas > 1 && soak != null) {
            throw new IllegalArgumentException("--soak runs one replica; leave out --replicas " + replicas);
        }
        if (warmup < 0 || (soak != null && soak < 1)) {
            throw new IllegalArgumentException("--warmup must be >= 0 and --soak >= 1");
        }
        if (!(warmupSeconds >= 0 && warmupSeconds <= 3600)) {
            throw new IllegalArgumentException("--warmup-seconds must be a number of seconds in [0, 3600], got " + warmupSeconds);
        }
        List<String> names = models.equals(List.of("all")) ? ModelSpec.STANDARD : models;
        List<ModelSpec> specs = names.stream().map(ModelSpec::standard).toList();
        engineOptions.check();
        OutputFiles.checkDistinct(data.inputs(), List.of(OutputFiles.Use.file("--json", json)));
        OutputFiles.checkWritable(json);
        RunOptions defaults = new RunOptions();
        defaults.lr = 0.01;
        defaults.momentum = 0.9;
        defaults.weightDecay = 5e-4;
        // Built once, before the data loads: a bad name or radius is an error before any work.
        Map<String, Optimizer> built = new LinkedHashMap<>();
        optimizers.forEach(name -> built.put(name, TrainingRun.optimizer(name, defaults, 1)));
        ImageDataset train = ImageDataset.load(data.dir, true);
        int[] order = ImageDataset.permutation(train.size(), new SplittableRandom(0));
        PrintWriter out = this.spec.commandLine().getOut();
        try (Engine engine = engineOptions.create(engineName)) {
            out.printf(Locale.ROOT, "engine %s on %s; batch %d, validation batch %d%s, %s%n", engine.name(),
                    engine.device(), batch, valBatch, replicas == 1 ? "" : ", " + replicas + " replicas (step ms: the "
                            + "data-parallel step; bare ms: the passes on one network)", opsOnly ? "one step each (operations only)"
                            : "warm-up of at least " + warmup + " steps and " + warmupSeconds + " s until steady, " + steps
                            + " measured steps");
            out.flush();
            if (soak != null) {
                ModelSpec spec = specs.get(0);
                return soak(engine, spec, names.get(0), optimizers.get(0), built.get(optimizers.get(0)),
                        batch(train, order, 0, batch, spec),
                        batch(train, order, batch, valBatch, spec), out);
            }
            List<Map<String, Object>> results = new ArrayList<>();
            out.printf(Locale.ROOT, "%-12s %-20s %12s %6s %12s %9s %10s %9s %9s %8s %11s%n", "model", "optimizer",
                    "step ms", "evals", "bare ms", "overhead", "RSS MiB", "ops/step", "bare ops", "tensors",
                    "faults/bare");
            for (int m = 0; m < specs.size(); m++) {
                ModelSpec spec = specs.get(m);
                Batch trainBatch = batch(train, order, 0, batch, spec);
                Batch validationBatch = batch(train, order, batch, valBatch, spec);
                for (String name : optimizers) {
                    Map<String, Object> r = measure(engine, spec, name, built.get(name), trainBatch, validationBatch);
                    r.put("model", names.get(m));
                    results.add(r);
                    if (opsOnly) {
                        out.printf(Locale.ROOT, "%-12s %-20s %12s %6d %12s %9s %10s %9d %9d %8d %11s%n", names.get(m),
                                name, "-", r.get("gradientEvaluations"), "-", "-", "-", r.get("operationsPerStep"),
                                r.get("bareOperations"), r.get("parameterTensors"), "-");
                    } else {
                        out.printf(Locale.ROOT, "%-12s %-20s %12.3f %6d %12.3f %9.3f %10.0f %9d %9d %8d %11.0f%n",
                                names.get(m), name, (double) r.get("medianStepSeconds") * 1e3,
                                r.get("gradientEvaluations"), (double) r.get("medianBareSeconds") * 1e3,
                                r.get("overhead"), (long) r.get("rssBytes") / 1048576.0, r.get("operationsPerStep"),
                                r.get("bareOperations"), r.get("parameterTensors"), r.get("minorFaultsPerBarePasses"));
                    }
                    if (replicas > 1) {
                        out.printf(Locale.ROOT, "%-12s %-20s reduce point: %+d ops/step over one replica%s%n", "", "",
                                r.get("reduceOperations"), opsOnly ? "" : String.format(Locale.ROOT,
                                        "; all-reduce of %d floats alone %.3f ms (%.1f %% of the step)",
                                        r.get("reduceFloats"), (double) r.get("medianAllReduceSeconds") * 1e3,
                                        100 * (double) r.get("medianAllReduceSeconds")
                                                / (double) r.get("medianStepSeconds")));
                    }
                    out.flush();
                }
            }
            if (json != null) {
                Map<String, Object> report = new LinkedHashMap<>();
                report.put("engine", engine.name());
                report.put("device", engine.device());
                report.put("models", names);
                report.put("batch", batch);
                report.put("valBatch", valBatch);
                report.put("threads", engineOptions.threads);
                report.put("replicas", replicas);
                report.put("peakRssBytes", memory("VmHWM"));
                report.put("results", results);
                Reports.write(json, report);
                out.println("wrote " + json);
            }
        }
        return 0;
    }

    private static Batch batch(ImageDataset train, int[] order, int from, int size, ModelSpec spec) {
        return train.batch(order, from, size, spec);
    }

    /**
     * One optimizer on one model: the step and its bare passes alternate, one of each per
     * iteration; with --ops-only, one of each, for the operation counts alone.
     */
    private Map<String, Object> measure(Engine engine, ModelSpec spec, String name, Optimizer opt,
            Batch trainBatch, Batch validationBatch) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("optimizer", name);
        StepProgram bareProgram = StepPrograms.bareGradients(opt);
        List<Network> networks = new ArrayList<>();
        try {
            for (int k = 0; k < replicas; k++) {
                networks.add(engine.build(spec, spec.initialParameters(0)));
            }
        } catch (RuntimeException e) {
            networks.forEach(Network::close);
            throw e;
        }
        Network network = networks.get(0);
        try (DataParallelTraining training = DataParallelTraining.start(networks, opt, BadValuePolicy.SKIP);
                CompiledStep bare = network.compile(bareProgram)) {
            double[] bareScalars = bareProgram.scalars(0);
            Batch v = training.program().usesValidationBatch() ? validationBatch : null;
            int measured = opsOnly ? 0 : steps;
            double[] stepTimes = new double[measured];
            double[] bareTimes = new double[measured];
            if (opsOnly) {
                training.step(trainBatch, v).loss();
                bare.run(trainBatch, v, bareScalars).read();
            } else {
                warmUp(() -> {
                    training.step(trainBatch, v).loss();
                    bare.run(trainBatch, v, bareScalars).read();
                });
            }
            long bareFaults = 0;
            for (int s = 0; s < measured; s++) {
                long t0 = System.nanoTime();
                training.step(trainBatch, v).loss();
                long t1 = System.nanoTime();
                long faults = minorFaults(); // read outside both timed spans
                long t1b = System.nanoTime();
                bare.run(trainBatch, v, bareScalars).read();
                long t2 = System.nanoTime();
                bareFaults += minorFaults() - faults;
                stepTimes[s] = (t1 - t0) / 1e9;
                bareTimes[s] = (t2 - t1b) / 1e9;
            }
            if (!opsOnly) {
                double stepSeconds = median(stepTimes);
                double bareSeconds = median(bareTimes);
                r.put("medianStepSeconds", stepSeconds);
                r.put("medianBareSeconds", bareSeconds);
                r.put("overhead", stepSeconds / bareSeconds);
                r.put("minorFaultsPerBarePasses", measured == 0 ? 0.0 : (double) bareFaults / measured);
            }
            r.put("gradientEvaluations", training.program().passes().size());
            r.put("operationsPerStep", training.replica(0).operationsPerStep());
            r.put("bareOperations", bare.operationsPerStep());
            r.put("parameterTensors", spec.parameterShapes().size());
            if (replicas > 1) {
                reducePoint(engine, spec, opt, trainBatch, v, r);
            }
        } finally {
            networks.forEach(Network::close);
        }
        if (!opsOnly) {
            r.put("rssBytes", memory("VmRSS"));
        }
        return r;
    }

    /**
     * What the reduce point of N replicas costs: the operations it adds to a step over one replica
     * (counted by the engine), and the in-process all-reduce of the model's gradient and running
     * statistics alone, timed apart from any pass.
     */
    private void reducePoint(Engine engine, ModelSpec spec, Optimizer opt, Batch trainBatch, Batch v,
            Map<String, Object> r) {
        try (Network alone = engine.build(spec, spec.initialParameters(0));
                Training one = Training.start(alone, opt, BadValuePolicy.SKIP)) {
            one.step(trainBatch, v).loss();
            r.put("reduceOperations", (long) r.get("operationsPerStep") - one.operationsPerStep());
        }
        int floats = 0;
        for (int[] shape : spec.parameterShapes()) {
            floats += (int) io.github.agnosticsam.model.HostTensor.size(shape);
        }
        for (int[] shape : spec.statisticShapes()) {
            floats += (int) io.github.agnosticsam.model.HostTensor.size(shape);
        }
        r.put("reduceFloats", floats);
        if (opsOnly) {
            return;
        }
        int rounds = Math.max(steps, 50);
        int size = floats;
        try (ReplicaThreads threads = ReplicaThreads.start(replicas, java.time.Duration.ofMinutes(1))) {
            List<double[]> times = threads.run(k -> {
                float[] buffer = new float[size];
                double[] t = new double[rounds];
                for (int i = 0; i < rounds + 20; i++) { // the first 20 warm up
                    long t0 = System.nanoTime();
                    threads.member(k).allReduceSum(buffer);
                    if (i >= 20) {
                        t[i - 20] = (System.nanoTime() - t0) / 1e9;
                    }
                }
                return t;
            });
            r.put("medianAllReduceSeconds", median(times.get(0)));
        }
    }

    private int soak(Engine engine, ModelSpec spec, String modelName, String name, Optimizer opt, Batch train,
            Batch validation, PrintWriter out) {
        try (Network network = engine.build(spec, spec.initialParameters(0));
                Training training = Training.start(network, opt, BadValuePolicy.SKIP)) {
            Batch v = training.program().usesValidationBatch() ? validation : null;
            for (int s = 0; s < warmup; s++) {
                training.step(train, v).loss();
            }
            long start = memory("VmRSS");
            out.printf(Locale.ROOT, "soak %s: RSS after %d warm-up steps %.1f MiB%n", name, warmup, start / 1048576.0);
            out.flush();
            // RSS at each quarter: growth that stops after the first (the heap settling) is not a leak.
            List<Long> quarters = new ArrayList<>();
            int done = 0;
            for (int k = 1; k <= 4; k++) {
                for (int mark = (int) ((long) soak * k / 4); done < mark; done++) {
                    training.step(train, v).loss();
                }
                quarters.add(memory("VmRSS"));
                out.printf(Locale.ROOT, "soak %s: RSS after %d steps %.1f MiB%n", name, done, quarters.get(k - 1) / 1048576.0);
                out.flush();
            }
            long end = memory("VmRSS");
            out.printf(Locale.ROOT, "soak %s: RSS after %d more steps %.1f MiB (%+.1f MiB); live native arrays: not "
                    + "reported through the engine-neutral API%n", name, soak, end / 1048576.0, (end - start) / 1048576.0);
            if (json != null) {
                Map<String, Object> report = new LinkedHashMap<>();
                report.put("engine", engine.name());
                report.put("model", modelName);
                report.put("optimizer", name);
                report.put("steps", soak);
                report.put("rssStartBytes", start);
                report.put("rssEndBytes", end);
                report.put("rssQuarterBytes", quarters);
                Reports.write(json, report);
            }
        }
        return 0;
    }

    /**
     * Runs {@code iteration} until the time it takes has settled: at least --warmup iterations and
     * --warmup-seconds, then until the medians of two consecutive windows of 25 differ by less than
     * 5 % (the JIT compiles for a number of calls, not a time: djl's agnostic-sam phase, first in its
     * JVM, still ran 1.6x slow after 3 s), for a minute at most.
     */
    private void warmUp(Runnable iteration) {
        long start = System.nanoTime();
        long minimum = start + (long) (warmupSeconds * 1e9);
        long maximum = start + (long) (20 * warmupSeconds * 1e9); // a minute for the default 3 s
        double[] window = new double[25];
        double previous = Double.NaN;
        boolean settled = warmupSeconds == 0; // --warmup-seconds 0: the step count alone
        for (int s = 0; ; s++) {
            long t0 = System.nanoTime();
            iteration.run();
            long t1 = System.nanoTime();
            window[s % window.length] = t1 - t0;
            if (s % window.length == window.length - 1) {
                double current = median(window);
                settled |= Math.abs(current - previous) < 0.05 * previous;
                previous = current;
            }
            if (s + 1 >= warmup && t1 >= minimum && (settled || t1 >= maximum)) {
                return;
            }
        }
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /**
     * The process's minor page faults so far (/proc/self/stat, field 10): pages the allocator gave
     * back to the system and touched again (docs/operations.md, "Memory allocator").
     */
    static long minorFaults() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(fields[7]); // minflt is field 10; fields here start at field 3
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** A size from /proc/self/status (VmRSS, VmHWM) in bytes; -1 where there is none. */
    static long memory(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key + ":")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
