package io.github.agnosticsam.spark;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.agnosticsam.examples.Main;
import io.github.agnosticsam.io.Json;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code spark-submit} of the packaged module ({@code target/agnostic-sam-spark.jar}, its
 * dependencies from {@code target/lib} as {@code --jars}) on a real cluster on this machine: a
 * driver JVM started with Spark's {@code SparkSubmit}, {@code local-cluster[2,1,...]} (a master and
 * two workers in the driver's JVM, each executor a JVM of its own). Our classes reach the
 * executors as on any cluster, through the driver's file server. {@code --replicas 2} across the
 * two executors writes the report {@code train --replicas 2} writes in one process, bit for bit
 * but the timings; an executor killed with SIGKILL, or stopped with SIGSTOP, mid-run costs a
 * retried stage that goes on from the newest checkpoint to the same report.
 */
class SparkTrainIT {
    private static final Path DATA = Path.of("/usr/share/datasets/fashion-mnist");

    /** A short run: 16 steps of 2 epochs of Agnostic-SAM on the MLP, one intra-op thread per replica. */
    private static List<String> trainOptions(String engine, String model, int limit) {
        return List.of("--engine", engine, "--threads", "1", "--model", model, "--optimizer", "agnostic-sam",
                "--replicas", "2", "--limit", Integer.toString(limit), "--epochs", "2", "--batch", "64",
                "--val-batch", "32", "--noise", "0.2", "--data", DATA.toString());
    }

    @Test
    void tensorflowAcrossTwoExecutorsWritesTheReportOfTwoReplicasInOneProcess(@TempDir Path folder) throws Exception {
        List<String> train = trainOptions("tensorflow", "mlp", 512);
        Map<?, ?> expected = inOneProcess(train, folder.resolve("one-process.json"));
        Submitted run = submit(folder, train, 1, "--ring-timeout", "60").await();
        assertThat(run.exit).as(run.output).isZero();
        assertThat(comparable(run.report())).as("the report, timings aside").isEqualTo(comparable(expected));
        assertThat(run.output).contains("agnostic-sam-spark: 2 replicas").contains("engine tensorflow on cpu")
                .contains("test accuracy");
    }

    @Test
    void aRunThatFailsEveryAttemptEndsWithOneLineNamingTheReplicasError(@TempDir Path folder) throws Exception {
        List<String> train = new ArrayList<>(trainOptions("djl", "mlp", 512));
        train.set(train.indexOf(DATA.toString()), folder.resolve("no-data").toString());
        Submitted run = submit(folder, train, 1, "--ring-timeout", "10").await();
        assertThat(run.exit).as(run.output).isEqualTo(1);
        List<String> lines = run.output.lines().toList();
        assertThat(lines.get(lines.size() - 1)).startsWith("agnostic-sam-spark: the run failed: ")
                .contains(folder.resolve("no-data").toString());
    }

    @Test
    void djlExecutorKilledMidRunCostsARetryFromTheNewestCheckpointAndTheSameReport(@TempDir Path folder)
            throws Exception {
        faultedRun(folder, "KILL");
    }

    @Test
    void djlExecutorStoppedMidRunTimesTheOtherOutAndCostsARetryFromTheNewestCheckpoint(@TempDir Path folder)
            throws Exception {
        faultedRun(folder, "STOP");
    }

    /**
     * A run of 2 × 32 steps of the cnn, checkpointed every 8 steps; at the first checkpoint one
     * executor gets {@code signal}. The run must end with the uninterrupted run's report and say
     * that it resumed.
     */
    private static void faultedRun(Path folder, String signal) throws Exception {
        List<String> train = trainOptions("djl", "cnn", 2048);
        Map<?, ?> expected = inOneProcess(train, folder.resolve("one-process.json"));
        Submitted run = submit(folder, train, 3, "--checkpoint-every", "8", "--ring-timeout", "10");
        List<ProcessHandle> hit = new ArrayList<>();
        try {
            Path first = folder.resolve("checkpoints").resolve("step-0000000008.safetensors");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
            while (!Files.exists(first) && run.process.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(first).as("the first checkpoint").exists();
            ProcessHandle executor = run.executors().get(0);
            hit.add(executor);
            new ProcessBuilder("kill", "-" + signal, Long.toString(executor.pid())).start().waitFor(10, TimeUnit.SECONDS);
            run.await();
        } finally {
            for (ProcessHandle p : hit) { // a stopped JVM would outlive the test
                new ProcessBuilder("kill", "-KILL", Long.toString(p.pid())).start().waitFor(10, TimeUnit.SECONDS);
            }
            run.process.destroyForcibly();
        }
        assertThat(run.exit).as(run.output).isZero();
        // What ends the other replica's task: for a stopped executor the ring's timeout (Spark waits 20 s for its
        // heartbeats); for a killed one its next ring call, or Spark cancelling the stage when it sees the exit first.
        assertThat(run.output).as("what ended the other replica's task").containsPattern(signal.equals("STOP")
                ? "for 10000 ms \\(stalled or dead\\)"
                : "the peer closed it|Connection reset|Broken pipe|TaskKilled \\(Stage cancelled");
        assertThat(run.output).as("a retried attempt resumed").containsPattern("resuming from step (8|16|24|32|40|48|56)");
        assertThat(comparable(run.report())).as("the report after the " + signal + ", timings aside")
                .isEqualTo(comparable(expected));
    }

    /** {@code agnostic-sam train} with the same options in this JVM, replicas as threads. */
    private static Map<?, ?> inOneProcess(List<String> train, Path json) throws IOException {
        List<String> args = new ArrayList<>(List.of("train", "--json", json.toString()));
        args.addAll(train);
        assertThat(Main.commandLine().execute(args.toArray(String[]::new))).isZero();
        return (Map<?, ?>) Json.parse(Files.readString(json));
    }

    /** The report without what differs from run to run: seconds, and the step a retried run resumed from. */
    private static Object comparable(Object report) {
        if (report instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            m.forEach((k, v) -> {
                if (!"seconds".equals(k) && !"resumedFrom".equals(k)) {
                    out.put(k, comparable(v));
                }
            });
            return out;
        }
        if (report instanceof List<?> l) {
            return l.stream().map(SparkTrainIT::comparable).toList();
        }
        return report;
    }

    /** A spark-submit under way. */
    private static final class Submitted {
        final Process process;
        final Path log;
        final Path json;
        final String marker;
        int exit = -1;
        String output = "";

        Submitted(Process process, Path log, Path json, String marker) {
            this.process = process;
            this.log = log;
            this.json = json;
            this.marker = marker;
        }

        Submitted await() throws Exception {
            assertThat(process.waitFor(600, TimeUnit.SECONDS)).as("spark-submit ended").isTrue();
            exit = process.exitValue();
            output = Files.readString(log);
            return this;
        }

        Map<?, ?> report() throws IOException {
            return (Map<?, ?>) Json.parse(Files.readString(json));
        }

        /** This run's executor JVMs: their command lines (read whole from /proc) carry the run's marker. */
        List<ProcessHandle> executors() {
            List<ProcessHandle> found = ProcessHandle.allProcesses().filter(p -> {
                List<String> args = commandLine(p);
                return args.contains("-Dagnosticsam.it=" + marker)
                        && args.contains("org.apache.spark.executor.CoarseGrainedExecutorBackend");
            }).toList();
            assertThat(found).as("the executors of run " + marker).isNotEmpty();
            return found;
        }

        private static List<String> commandLine(ProcessHandle p) {
            try {
                return List.of(Files.readString(Path.of("/proc", Long.toString(p.pid()), "cmdline")).split("\0"));
            } catch (IOException | RuntimeException gone) {
                return List.of();
            }
        }
    }

    /**
     * Starts {@code SparkSubmit} as spark-submit does: a JVM with Spark's jars (here: this test's
     * class path without agnostic-sam's own classes), the application jar and its --jars.
     */
    private static Submitted submit(Path folder, List<String> train, int attempts, String... launcher)
            throws IOException {
        String marker = UUID.randomUUID().toString();
        String sparkClassPath = Stream.of(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(e -> !Path.of(e).getFileName().toString().startsWith("agnostic-sam")
                        && !e.endsWith("classes"))
                .collect(Collectors.joining(File.pathSeparator));
        String jars;
        try (Stream<Path> lib = Files.list(Path.of(System.getProperty("spark.app.lib")))) {
            jars = lib.map(Path::toString).sorted().collect(Collectors.joining(","));
        }
        Path json = folder.resolve("spark.json");
        Path log = folder.resolve("spark-submit.log");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(System.getProperty("spark.jvm.options").trim().split("\\s+")));
        command.addAll(List.of("-Xmx1g", "-Dspark.test.home=" + System.getProperty("spark.test.home"),
                "-cp", sparkClassPath, "org.apache.spark.deploy.SparkSubmit",
                "--master", "local-cluster[2,1,1536]",
                "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.driver.bindAddress=127.0.0.1",
                "--conf", "spark.ui.enabled=false",
                "--conf", "spark.serializer=org.apache.spark.serializer.KryoSerializer",
                "--conf", "spark.stage.maxConsecutiveAttempts=" + attempts,
                // A stopped executor sends no heartbeat: given up after 20 s, so that its slot frees.
                "--conf", "spark.network.timeout=20s", "--conf", "spark.network.timeoutInterval=5s",
                "--conf", "spark.executor.heartbeatInterval=2s",
                "--conf", "spark.barrier.sync.timeout=120s",
                "--conf", "spark.executor.extraClassPath=" + sparkClassPath,
                "--conf", "spark.executor.extraJavaOptions=-Dagnosticsam.it=" + marker + " "
                        + System.getProperty("spark.jvm.options").trim(),
                "--class", SparkTrain.class.getName(), "--jars", jars, System.getProperty("spark.app.jar"),
                "--checkpoint", folder.resolve("checkpoints").toUri().toString(), "--json", json.toString()));
        command.addAll(List.of(launcher));
        command.addAll(train);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new Submitted(p, log, json, marker);
    }
}
