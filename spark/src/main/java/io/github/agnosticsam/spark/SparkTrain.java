package io.github.agnosticsam.spark;

import io.github.agnosticsam.examples.ClusterTrain;
import io.github.agnosticsam.spi.Collective;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.deploy.SparkHadoopUtil;
import org.apache.spark.resource.ResourceInformation;

/**
 * {@code train} on a Spark cluster: {@code spark-submit --class io.github.agnosticsam.spark.SparkTrain
 * agnostic-sam-spark.jar --checkpoint URI [--checkpoint-every STEPS] [--keep N] [--json FILE]
 * [--ring-timeout SECONDS] TRAIN-OPTIONS}. The --replicas of train's options run as one barrier
 * stage ({@link SparkReplicas}): each task builds its engine on its executor, reads the data at
 * --data there, joins the ring and trains its shard; replica 0 writes the checkpoints to the URI
 * (any Hadoop file system every executor sees) and the report, which the driver prints (and writes
 * to --json). A failed attempt is retried by Spark and goes on from the newest checkpoint; so does
 * a run submitted again with the same URI (its options must agree with the checkpoint's).
 */
public final class SparkTrain {
    /** How long a replica waits for another in one ring call by default: longer than any step or evaluation. */
    static final Duration DEFAULT_RING_TIMEOUT = Duration.ofSeconds(120);

    private SparkTrain() {
    }

    /** What the launcher takes for itself; the rest is train's. */
    record Options(String checkpoint, long every, int keep, Path json, Duration ringTimeout, List<String> train) {
        static Options parse(String[] args) {
            String checkpoint = null;
            Long every = null;
            Integer keep = null;
            Path json = null;
            Duration timeout = DEFAULT_RING_TIMEOUT;
            List<String> train = new ArrayList<>();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                String name = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
                if (!List.of("--checkpoint", "--checkpoint-every", "--keep", "--json", "--ring-timeout").contains(name)) {
                    train.add(a);
                    continue;
                }
                String value;
                if (a.contains("=")) {
                    value = a.substring(a.indexOf('=') + 1);
                } else if (i + 1 < args.length) {
                    value = args[++i];
                } else {
                    throw new IllegalArgumentException(name + " needs a value");
                }
                switch (name) {
                    case "--checkpoint" -> checkpoint = value;
                    case "--checkpoint-every" -> every = number(name, value, 0);
                    case "--keep" -> keep = (int) number(name, value, 1);
                    case "--json" -> json = Path.of(value);
                    default -> timeout = Duration.ofMillis(Math.multiplyExact(number(name, value, 1), 1000L));
                }
            }
            if (checkpoint == null) {
                throw new IllegalArgumentException("--checkpoint URI is required: the folder (any Hadoop file system "
                        + "every executor sees, file:// included) that replica 0 writes checkpoints to and a retried "
                        + "attempt resumes from");
            }
            return new Options(checkpoint, every == null ? 0 : every, keep == null ? 3 : keep, json, timeout, train);
        }

        private static long number(String name, String value, long min) {
            long v;
            try {
                v = Long.parseLong(value);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(name + " must be a whole number >= " + min + ", got '" + value + "'");
            }
            if (v < min || v > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(name + " must be in [" + min + ", " + Integer.MAX_VALUE + "], got " + v);
            }
            return v;
        }
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** The launcher: 0 when the run finished, 1 when it failed, 2 for bad options. Never a stack trace. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        if (List.of(args).contains("--help") || List.of(args).contains("-h")) {
            out.println(USAGE);
            out.println("train's options (all but --checkpoint, --checkpoint-every, --keep, --json, --resume and "
                    + "--tensorboard):");
            out.println(ClusterTrain.usage());
            return 0;
        }
        Options options;
        int replicas;
        try {
            options = Options.parse(args);
            replicas = ClusterTrain.check(options.train());
            if (options.json() != null) {
                ClusterTrain.checkReport(options.json());
            }
            new HadoopCheckpoints(options.checkpoint(), options.every(), options.keep(),
                    SparkHadoopUtil.get().newConfiguration(new SparkConf()));
        } catch (IllegalArgumentException e) {
            err.println("agnostic-sam-spark: " + e.getMessage() + " (see --help)");
            return 2;
        } catch (RuntimeException e) { // an output that cannot be written
            err.println("agnostic-sam-spark: " + e.getMessage());
            return 1;
        }
        SparkConf conf = new SparkConf().setAppName("agnostic-sam train, " + replicas + " replicas")
                // Bounds the stage's one allGather, where a task that never arrives would keep the others.
                .setIfMissing("spark.barrier.sync.timeout", "600s")
                // A barrier stage waits for enough slots (executors still starting) in rounds: every
                // 2 s for 5 min, not Spark's 15 s for 10 min.
                .setIfMissing("spark.scheduler.barrier.maxConcurrentTasksCheck.interval", "2s")
                .setIfMissing("spark.scheduler.barrier.maxConcurrentTasksCheck.maxFailures", "150");
        try (JavaSparkContext spark = new JavaSparkContext(conf)) {
            HadoopCheckpoints store = new HadoopCheckpoints(options.checkpoint(), options.every(), options.keep(),
                    spark.hadoopConfiguration());
            long from = store.newestStep();
            out.println(from < 0 ? "agnostic-sam-spark: " + replicas + " replicas, checkpoints in " + store.folder()
                    : "agnostic-sam-spark: " + replicas + " replicas, going on from the checkpoint after step " + from
                            + " in " + store.folder());
            Thread progress = progress(store, from, out);
            List<String[]> results;
            try {
                results = SparkReplicas.run(spark, replicas, options.ringTimeout(), new ReplicaJob(options));
            } finally {
                progress.interrupt();
                progress.join(5000); // its last line before the report
            }
            out.print(results.get(0)[0]);
            if (options.json() != null) {
                ClusterTrain.writeReport(options.json(), results.get(0)[1]);
                out.println("wrote " + options.json());
            }
            return 0;
        } catch (Exception e) { // SparkException is checked, and Scala throws it undeclared
            err.println("agnostic-sam-spark: the run failed: " + rootMessage(e));
            return 1;
        }
    }

    /**
     * The replica's error: Spark writes a failed task's exception into its own message, as "class:
     * message" on a line of its own, or chains it as the cause.
     */
    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String text = t.getMessage() == null ? t.toString() : t.getMessage();
        java.util.regex.Matcher task = java.util.regex.Pattern.compile("(?m)^[\\w.$]+(?:Exception|Error): (.+)$")
                .matcher(text);
        return task.find() ? task.group(1) : text.lines().findFirst().orElse(t.getClass().getName());
    }

    /** A line on the driver for every new checkpoint replica 0 writes. */
    private static Thread progress(HadoopCheckpoints store, long from, PrintStream out) {
        Thread t = new Thread(() -> {
            long seen = from;
            long started = System.nanoTime();
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    Thread.sleep(1000);
                    long now = store.newestStep();
                    if (now > seen) {
                        seen = now;
                        out.printf(java.util.Locale.ROOT, "  checkpoint after step %d (%.0f s)%n", now,
                                (System.nanoTime() - started) / 1e9);
                    }
                }
            } catch (InterruptedException done) {
                // the stage ended
            }
        }, "agnostic-sam progress");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** One replica: on its executor, with the ring of its attempt. */
    static final class ReplicaJob implements SparkReplicas.Job<String[]> {
        private static final long serialVersionUID = 1L;
        private final String checkpoint;
        private final long every;
        private final int keep;
        private final String[] train;

        ReplicaJob(Options o) {
            this.checkpoint = o.checkpoint();
            this.every = o.every();
            this.keep = o.keep();
            this.train = o.train().toArray(String[]::new);
        }

        @Override
        public String[] run(int rank, int replicas, Collective ring) throws IOException {
            List<String> args = new ArrayList<>(List.of(train));
            checkGpu();
            HadoopCheckpoints store = new HadoopCheckpoints(checkpoint, every, keep,
                    SparkHadoopUtil.get().newConfiguration(SparkEnv.get().conf()));
            if (rank == 0) {
                store.prepare();
            }
            // Every replica starts from the newest checkpoint (a retried attempt, a resubmitted run);
            // none is written before every replica took its copy: writing needs a step, and a step needs every replica.
            Path local = Files.createTempDirectory("agnostic-sam-resume");
            try {
                ClusterTrain.Report r = ClusterTrain.replica(args, rank, ring, rank == 0 ? store : null,
                        store.copyNewestTo(local));
                return new String[] {r.output(), r.json()};
            } finally {
                try (var files = Files.list(local)) {
                    for (Path p : files.toList()) {
                        Files.deleteIfExists(p);
                    }
                }
                Files.deleteIfExists(local);
            }
        }

        /**
         * A task given a GPU by Spark's resource scheduling must find it as the engine's GPU: the
         * engines take the first GPU they see, so an executor gets one GPU (it is then the task's).
         */
        private static void checkGpu() {
            TaskContext task = TaskContext.get();
            Map<String, ResourceInformation> resources = task == null ? Map.of()
                    : scala.jdk.javaapi.CollectionConverters.asJava(task.resources());
            ResourceInformation gpu = resources.get("gpu");
            if (gpu == null) {
                return;
            }
            String[] addresses = gpu.addresses();
            if (addresses.length != 1 || !"0".equals(addresses[0])) {
                throw new IllegalStateException("this task was given GPU " + String.join(",", addresses) + ", but the "
                        + "engines compute on the first GPU they see: give every executor one GPU "
                        + "(spark.executor.resource.gpu.amount=1, spark.task.resource.gpu.amount=1)");
            }
        }
    }

    static final String USAGE = """
            usage: spark-submit [Spark's options] --class io.github.agnosticsam.spark.SparkTrain agnostic-sam-spark.jar \\
                     --checkpoint URI [--checkpoint-every STEPS] [--keep N] [--json FILE] [--ring-timeout SECONDS] \\
                     [train's options: --replicas N --engine NAME --model NAME --optimizer NAME --epochs N ...]

            Trains as `agnostic-sam train` does, with --replicas N replicas as one Spark barrier stage (a task each).
              --checkpoint URI        a folder of any Hadoop file system every executor sees (hdfs://, s3a://,
                                      file://): replica 0 writes a checkpoint after every epoch; a retried attempt
                                      (or this command again) goes on from the newest
              --checkpoint-every N    also every N steps (default: after each epoch only)
              --keep N                how many checkpoints to keep, the newest (default: 3)
              --json FILE             the report, written on the driver's machine
              --ring-timeout SECONDS  how long a replica waits for the others in one all-reduce before the attempt
                                      fails (default: 120)
            Every executor reads --data (default /usr/share/datasets/fashion-mnist) on its own machine.""";
}
