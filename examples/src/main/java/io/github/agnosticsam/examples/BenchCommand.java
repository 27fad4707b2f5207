package io.github.agnosticsam.examples;

import io.github.agnosticsam.BadValuePolicy;
import io.github.agnosticsam.BareGradients;
import io.github.agnosticsam.Batch;
import io.github.agnosticsam.Engine;
import io.github.agnosticsam.ModelSpec;
import io.github.agnosticsam.Network;
import io.github.agnosticsam.Optimizer;
import io.github.agnosticsam.Training;
import io.github.agnosticsam.spi.CompiledStep;
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
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Step time against the bare gradient evaluations of the step, per optimizer, on real data. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"For each optimizer, in its own phase: median step time, the median time of the bare "
                + "forward+backward passes the step needs (same batches, same run), their ratio, and the process RSS.",
                "--soak N instead runs N steps of the first optimizer and reports RSS at the start and the end."})
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--engine", paramLabel = "NAME", description = "Engine (default: the default engine).")
    String engineName;

    @Mixin
    EngineOptionsMixin engineOptions;

    @Mixin
    DataOption data;

    @Option(names = "--model", paramLabel = "mlp|mlp-bn|cnn|resnet-small", defaultValue = "mlp", description = "Standard model, docs/models.md (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--batch", defaultValue = "128", description = "Train batch (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--val-batch", defaultValue = "32", description = "Validation batch (default: ${DEFAULT-VALUE}).")
    int valBatch;

    @Option(names = "--warmup", defaultValue = "20", description = "Unmeasured steps per phase (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--steps", defaultValue = "200", description = "Measured steps per phase (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--optimizers", split = ",", defaultValue = "sgd,sam,agnostic-sam-fast,agnostic-sam",
            description = "Comma-separated optimizer names (default: ${DEFAULT-VALUE}).")
    List<String> optimizers;

    @Option(names = "--soak", paramLabel = "N", description = "Run N steps of the first optimizer and report RSS at start and end.")
    Integer soak;

    @Option(names = "--json", paramLabel = "FILE", description = "Write the figures as JSON.")
    Path json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        for (String[] c : new String[][] {{"--batch", "" + batch}, {"--val-batch", "" + valBatch},
                {"--steps", "" + steps}}) {
            if (Integer.parseInt(c[1]) < 1) {
                throw new IllegalArgumentException(c[0] + " must be >= 1, got " + c[1]);
            }
        }
        if (warmup < 0 || (soak != null && soak < 1)) {
            throw new IllegalArgumentException("--warmup must be >= 0 and --soak >= 1");
        }
        ModelSpec spec = ModelSpecs.check(model);
        engineOptions.check();
        OutputFiles.checkWritable(json);
        RunOptions defaults = new RunOptions();
        defaults.lr = 0.01;
        defaults.momentum = 0.9;
        defaults.weightDecay = 5e-4;
        optimizers.forEach(name -> TrainingRun.optimizer(name, defaults, 1));
        ImageDataset train = ImageDataset.load(data.dir, true);
        boolean image = ModelSpecs.isImage(spec);
        int[] order = ImageDataset.permutation(train.size(), new SplittableRandom(0));
        Batch trainBatch = train.batch(order, 0, batch, image);
        Batch validationBatch = train.batch(order, batch, valBatch, image);
        PrintWriter out = this.spec.commandLine().getOut();
        try (Engine engine = engineOptions.create(engineName)) {
            out.printf(Locale.ROOT, "engine %s on %s; %s, batch %d, validation batch %d, %d warm-up + %d measured steps%n",
                    engine.name(), engine.device(), model, batch, valBatch, warmup, steps);
            out.flush();
            if (soak != null) {
                return soak(engine, spec, optimizers.get(0), defaults, trainBatch, validationBatch, out);
            }
            List<Map<String, Object>> results = new ArrayList<>();
            out.printf(Locale.ROOT, "%-20s %12s %6s %12s %9s %10s%n", "optimizer", "step ms", "evals", "bare ms",
                    "overhead", "RSS MiB");
            for (String name : optimizers) {
                Optimizer opt = TrainingRun.optimizer(name, defaults, 1);
                double stepSeconds;
                double bareSeconds;
                int evaluations;
                try (Network network = engine.build(spec, spec.initialParameters(0));
                        Training training = Training.start(network, opt, BadValuePolicy.SKIP);
                        CompiledStep bare = network.compile(BareGradients.of(opt))) {
                    double[] bareScalars = BareGradients.of(opt).scalars(0);
                    boolean validation = training.program().usesValidationBatch();
                    Batch v = validation ? validationBatch : null;
                    evaluations = training.program().passes().size();
                    double[] stepTimes = new double[steps];
                    double[] bareTimes = new double[steps];
                    for (int s = 0; s < warmup + steps; s++) {
                        long t0 = System.nanoTime();
                        training.step(trainBatch, v).loss();
                        long t1 = System.nanoTime();
                        bare.run(trainBatch, v, bareScalars).read();
                        long t2 = System.nanoTime();
                        if (s >= warmup) {
                            stepTimes[s - warmup] = (t1 - t0) / 1e9;
                            bareTimes[s - warmup] = (t2 - t1) / 1e9;
                        }
                    }
                    stepSeconds = median(stepTimes);
                    bareSeconds = median(bareTimes);
                }
                long rss = memory("VmRSS");
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("optimizer", name);
                r.put("medianStepSeconds", stepSeconds);
                r.put("gradientEvaluations", evaluations);
                r.put("medianBareSeconds", bareSeconds);
                r.put("overhead", stepSeconds / bareSeconds);
                r.put("rssBytes", rss);
                results.add(r);
                out.printf(Locale.ROOT, "%-20s %12.3f %6d %12.3f %9.3f %10.0f%n", name, stepSeconds * 1e3, evaluations,
                        bareSeconds * 1e3, stepSeconds / bareSeconds, rss / 1048576.0);
                out.flush();
            }
            if (json != null) {
                Map<String, Object> report = new LinkedHashMap<>();
                report.put("engine", engine.name());
                report.put("device", engine.device());
                report.put("model", model);
                report.put("batch", batch);
                report.put("valBatch", valBatch);
                report.put("threads", engineOptions.threads);
                report.put("peakRssBytes", memory("VmHWM"));
                report.put("results", results);
                Reports.write(json, report);
                out.println("wrote " + json);
            }
        }
        return 0;
    }

    private int soak(Engine engine, ModelSpec spec, String name, RunOptions defaults, Batch train, Batch validation,
            PrintWriter out) {
        Optimizer opt = TrainingRun.optimizer(name, defaults, 1);
        try (Network network = engine.build(spec, spec.initialParameters(0));
                Training training = Training.start(network, opt, BadValuePolicy.SKIP)) {
            Batch v = training.program().usesValidationBatch() ? validation : null;
            for (int s = 0; s < warmup; s++) {
                training.step(train, v).loss();
            }
            long start = memory("VmRSS");
            out.printf(Locale.ROOT, "soak %s: RSS after %d warm-up steps %.1f MiB%n", name, warmup, start / 1048576.0);
            out.flush();
            for (int s = 0; s < soak; s++) {
                training.step(train, v).loss();
            }
            long end = memory("VmRSS");
            out.printf(Locale.ROOT, "soak %s: RSS after %d more steps %.1f MiB (%+.1f MiB); live native arrays: not "
                    + "reported through the engine-neutral API%n", name, soak, end / 1048576.0, (end - start) / 1048576.0);
            if (json != null) {
                Map<String, Object> report = new LinkedHashMap<>();
                report.put("engine", engine.name());
                report.put("model", model);
                report.put("optimizer", name);
                report.put("steps", soak);
                report.put("rssStartBytes", start);
                report.put("rssEndBytes", end);
                Reports.write(json, report);
            }
        }
        return 0;
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
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
