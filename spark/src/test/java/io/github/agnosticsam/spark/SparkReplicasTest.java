package io.github.agnosticsam.spark;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.agnosticsam.Engines;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.spi.Collective;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.training.BadValuePolicy;
import io.github.agnosticsam.training.Checkpoint;
import io.github.agnosticsam.training.DataParallelTraining;
import io.github.agnosticsam.training.Training;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replicas as a Spark barrier stage on a real cluster on this machine ({@code local-cluster}: a
 * master and two workers in the test's JVM, each executor a JVM of its own): a training of two
 * replicas equals {@code DataParallelTraining} of two bit for bit, and an executor killed with
 * SIGKILL mid-training costs a retried stage that resumes from the newest checkpoint and ends
 * with the same parameters.
 */
class SparkReplicasTest {
    static final int STEPS = 8;

    private static JavaSparkContext cluster(String name) {
        SparkConf conf = new SparkConf().setAppName(name).setMaster("local-cluster[2,1,1024]")
                .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
                .set("spark.ui.enabled", "false")
                .set("spark.barrier.sync.timeout", "120s") // bounds the one allGather (docs/cluster.md)
                // Kryo, as many clusters run: the replicas' results go through it after the stage.
                .set("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                // The executors' JVMs load this test's classes (the job, the reference engine).
                .set("spark.executor.extraClassPath", System.getProperty("java.class.path"));
        return new JavaSparkContext(conf);
    }

    /** The replica of the tests: Agnostic-SAM on the reference engine, checkpointed by replica 0 after each step. */
    static final class TrainingJob implements SparkReplicas.Job<ArrayList<String>> {
        private static final long serialVersionUID = 1L;
        private final String checkpoints;
        /** Replica 1 waits there, at this step, its pid in the file, to be killed; once only. */
        private final String killFile;
        private final int killAt;

        TrainingJob(Path checkpoints, Path killFile, int killAt) {
            this.checkpoints = checkpoints.toString();
            this.killFile = killFile == null ? null : killFile.toString();
            this.killAt = killAt;
        }

        @Override
        public ArrayList<String> run(int rank, int replicas, Collective ring) throws Exception {
            Path dir = Path.of(checkpoints);
            try (Engine engine = Engines.load("reference", EngineOptions.DEFAULT);
                    Network network = engine.build(RingTest.MODEL, RingTest.MODEL.initialParameters(RingTest.SEED));
                    Training training = Training.replica(network, RingTest.optimizer(), BadValuePolicy.SKIP, ring)) {
                Path newest = newest(dir);
                if (newest != null) { // a retried attempt goes on where the failed one stopped
                    training.restore(Checkpoint.read(newest));
                }
                Files.writeString(dir.resolve("starts-" + rank), training.steps() + "\n",
                        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
                for (long s = training.steps(); s < STEPS; s++) {
                    if (killFile != null && rank == 1 && s == killAt && !Files.exists(Path.of(killFile))) {
                        Files.writeString(Path.of(killFile), Long.toString(ProcessHandle.current().pid()));
                        Thread.sleep(120_000); // killed here
                    }
                    training.step(RingTest.batch(s, 16).shard(rank, replicas, "train"),
                            RingTest.batch(1000 + s, 8).shard(rank, replicas, "validation"));
                    if (rank == 0) {
                        training.checkpoint().write(dir.resolve(String.format("step-%05d.safetensors", training.steps())));
                    }
                }
                return bits(network.parameters());
            }
        }

        private static Path newest(Path dir) throws IOException {
            try (Stream<Path> files = Files.list(dir)) {
                return files.filter(p -> p.getFileName().toString().matches("step-\\d{5}\\.safetensors")).sorted()
                        .reduce((a, b) -> b).orElse(null);
            }
        }
    }

    static ArrayList<String> bits(List<HostTensor> parameters) {
        ArrayList<String> out = new ArrayList<>();
        for (HostTensor t : parameters) {
            for (double v : t.values()) {
                out.add(Long.toString(Double.doubleToRawLongBits(v)));
            }
        }
        return out;
    }

    /** The same run in one process. */
    private static List<String> inOneProcess() {
        try (Engine engine = Engines.load("reference", EngineOptions.DEFAULT);
                Network a = engine.build(RingTest.MODEL, RingTest.MODEL.initialParameters(RingTest.SEED));
                Network b = engine.build(RingTest.MODEL, RingTest.MODEL.initialParameters(RingTest.SEED));
                DataParallelTraining t = DataParallelTraining.start(List.of(a, b), RingTest.optimizer(),
                        BadValuePolicy.SKIP)) {
            for (int s = 0; s < STEPS; s++) {
                t.step(RingTest.batch(s, 16), RingTest.batch(1000 + s, 8));
            }
            return bits(a.parameters());
        }
    }

    @Test
    void twoExecutorsTrainAsTwoReplicasInOneProcessAndAKilledExecutorCostsARetryFromTheNewestCheckpoint(
            @TempDir Path folder) throws Exception {
        List<String> expected = inOneProcess();
        Path whole = Files.createDirectories(folder.resolve("whole"));
        Path killed = Files.createDirectories(folder.resolve("killed"));
        Path killFile = folder.resolve("kill-me");
        ExecutorService driver = Executors.newSingleThreadExecutor();
        try (JavaSparkContext spark = cluster("agnostic-sam replicas test")) {
            List<ArrayList<String>> results = SparkReplicas.run(spark, 2, Duration.ofSeconds(20),
                    new TrainingJob(whole, null, -1));
            assertThat(results).hasSize(2);
            assertThat(results.get(0)).as("replica 0 across two executors").isEqualTo(expected);
            assertThat(results.get(1)).as("replica 1 across two executors").isEqualTo(expected);

            Future<List<ArrayList<String>>> run = driver.submit(() -> SparkReplicas.run(spark, 2,
                    Duration.ofSeconds(20), new TrainingJob(killed, killFile, 5)));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!Files.exists(killFile) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(killFile).as("replica 1 reached step 5").exists();
            Thread.sleep(200);
            long pid = Long.parseLong(Files.readString(killFile).strip());
            assertThat(pid).as("an executor's JVM, not this one").isNotEqualTo(ProcessHandle.current().pid());
            new ProcessBuilder("kill", "-KILL", Long.toString(pid)).start().waitFor(10, TimeUnit.SECONDS);
            List<ArrayList<String>> resumed = run.get(300, TimeUnit.SECONDS);
            assertThat(resumed.get(0)).as("after the kill, a retried stage from the newest checkpoint")
                    .isEqualTo(expected);
            assertThat(resumed.get(1)).isEqualTo(expected);
            assertThat(Files.readAllLines(killed.resolve("starts-0"))).as("replica 0's attempts: from step 0, then "
                    + "from the checkpoint after step 5").containsExactly("0", "5");
        } finally {
            driver.shutdownNow();
        }
    }
}
