package io.github.agnosticsam.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs {@link StepBenchmark} in one JMH run and prints, per model and optimizer, the median step
 * time, the median time of its bare gradient evaluations, their ratio (the optimizer's overhead),
 * and Agnostic-SAM FAST ÷ SAM. Its forks get the launcher's malloc settings (config/malloc.env).
 *
 * <p>Usage: {@code BenchReport [engine=djl] [models=mlp,cnn] [threads=0] [warmup=5] [iterations=8] [time=1]
 *     [optimizers=sgd,sam,agnostic-sam-fast,agnostic-sam]}
 */
public final class BenchReport {
    private BenchReport() {
    }

    /** The MALLOC_ variables of this JVM's environment, which its forks inherit. */
    private static String mallocEnvironment() {
        List<String> set = new ArrayList<>();
        System.getenv().forEach((k, v) -> {
            if (k.startsWith("MALLOC_")) {
                set.add(k + "=" + v);
            }
        });
        return set.isEmpty() ? "glibc's defaults" : String.join(" ", set.stream().sorted().toList());
    }

    /**
     * The settings of config/malloc.env (the launcher's; docs/operations.md, "djl: the memory
     * allocator") that the environment does not set; none when AGNOSTIC_SAM_SYSTEM_MALLOC is set, as
     * for the launcher.
     */
    static Map<String, String> missingMallocSettings() throws IOException {
        Map<String, String> missing = new LinkedHashMap<>();
        if (isSet("AGNOSTIC_SAM_SYSTEM_MALLOC")) {
            return missing;
        }
        try (InputStream in = BenchReport.class.getResourceAsStream("malloc.env")) {
            if (in == null) {
                System.err.println("BenchReport: no malloc.env in the jar; the forks get this environment's malloc");
                return missing;
            }
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                Matcher m = SETTING.matcher(line.strip());
                if (m.matches() && !isSet(m.group(1))) {
                    missing.put(m.group(1), m.group(2));
                }
            }
        }
        return missing;
    }

    private static final Pattern SETTING = Pattern.compile("(MALLOC_[A-Z_]+)=(.*)");

    /** As the launcher's {@code ${NAME:-}}: set means set and not empty. */
    private static boolean isSet(String name) {
        String value = System.getenv(name);
        return value != null && !value.isEmpty();
    }

    public static void main(String[] args) throws RunnerException, IOException, InterruptedException {
        Map<String, String> missing = missingMallocSettings();
        ProcessHandle.Info self = ProcessHandle.current().info();
        if (!missing.isEmpty() && self.command().isPresent() && self.arguments().isPresent()) {
            // JMH's forks inherit this JVM's environment, and a JVM cannot change its own: run again with it
            // (once: the run again finds every setting present).
            List<String> command = new ArrayList<>();
            command.add(self.command().get());
            command.addAll(List.of(self.arguments().get()));
            ProcessBuilder again = new ProcessBuilder(command).inheritIO();
            again.environment().putAll(missing);
            Process child = again.start();
            Runtime.getRuntime().addShutdownHook(new Thread(child::destroy));
            System.exit(child.waitFor());
        }
        Map<String, String> a = new LinkedHashMap<>(Map.of("engine", "djl", "models", "mlp,cnn", "threads", "0",
                "warmup", "5", "iterations", "8", "time", "1",
                "optimizers", "sgd,sam,agnostic-sam-fast,agnostic-sam"));
        for (String arg : args) {
            String[] kv = arg.split("=", 2);
            if (kv.length != 2 || !a.containsKey(kv[0])) {
                System.err.println("usage: BenchReport " + String.join(" ", a.keySet().stream().map(k -> "[" + k + "=" + a.get(k) + "]").toList()));
                System.exit(2);
            }
            a.put(kv[0], kv[1]);
        }
        int seconds = Integer.parseInt(a.get("time"));
        ChainedOptionsBuilder options = new OptionsBuilder()
                .include(StepBenchmark.class.getName() + ".run")
                .param("engine", a.get("engine"))
                .param("model", a.get("models").split(","))
                .param("threads", a.get("threads"))
                .param("optimizer", a.get("optimizers").split(","))
                .forks(1)
                .jvmArgsAppend("-Dai.djl.offline=true", "-Xmx4g", "-Xmn64m") // -Xmn: as the launcher, docs/operations.md
                .warmupIterations(Integer.parseInt(a.get("warmup")))
                .warmupTime(TimeValue.seconds(seconds))
                .measurementIterations(Integer.parseInt(a.get("iterations")))
                .measurementTime(TimeValue.seconds(seconds));
        Collection<RunResult> results = new Runner(options.build()).run();

        Map<String, Double> median = new LinkedHashMap<>();
        List<String> keys = new ArrayList<>();
        for (RunResult r : results) {
            var p = r.getParams();
            String key = p.getParam("model") + "/" + p.getParam("optimizer");
            if (!keys.contains(key)) {
                keys.add(key);
            }
            median.put(key + "/" + p.getParam("measure"), r.getPrimaryResult().getStatistics().getPercentile(50));
        }
        System.out.printf(Locale.ROOT, "%nengine %s, threads %s (0 = engine default), batch 128, validation batch 32; "
                + "forks' malloc settings: %s%n", a.get("engine"), a.get("threads"), mallocEnvironment());
        System.out.printf(Locale.ROOT, "%-5s %-18s %12s %12s %9s %9s%n", "model", "optimizer", "step ms", "bare ms",
                "overhead", "steps/s");
        for (String key : keys) {
            Double step = median.get(key + "/step");
            Double bare = median.get(key + "/bare");
            String[] mo = key.split("/");
            System.out.printf(Locale.ROOT, "%-5s %-18s %12.3f %12.3f %9.3f %9.1f%n", mo[0], mo[1], step, bare,
                    step / bare, 1000 / step);
        }
        for (String model : a.get("models").split(",")) {
            Double fast = median.get(model + "/agnostic-sam-fast/step");
            Double sam = median.get(model + "/sam/step");
            if (fast != null && sam != null) {
                System.out.printf(Locale.ROOT, "%s: Agnostic-SAM FAST / SAM step time = %.3f (sample-weighted ideal 1.125)%n",
                        model, fast / sam);
            }
        }
    }
}
