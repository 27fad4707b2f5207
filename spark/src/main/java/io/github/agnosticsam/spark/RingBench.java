package io.github.agnosticsam.spark;

import io.github.agnosticsam.Engines;
import io.github.agnosticsam.conformance.SyntheticBatches;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.Optimizer;
import io.github.agnosticsam.optim.Optimizers;
import io.github.agnosticsam.optim.Sgd;
import io.github.agnosticsam.spi.Collective;
import io.github.agnosticsam.spi.Device;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.training.BadValuePolicy;
import io.github.agnosticsam.training.Training;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The ring between processes on this machine's loopback, each replica a JVM of its own started
 * from this class path, measured by replica 0 (medians after a warm-up):
 *
 * <ul>
 *   <li>the all-reduce alone: for each buffer size, one {@link RingCollective#allReduceSum} of floats;
 *   <li>with {@code --steps}: data-parallel steps of Agnostic-SAM (SGD base) on a standard model,
 *       batch 128 and validation batch 32 split among the replicas, one intra-op thread each: the
 *       step, and the all-reduce inside it.
 * </ul>
 *
 * <pre>
 * java -cp 'agnostic-sam-spark.jar:lib/*' io.github.agnosticsam.spark.RingBench 2 0.8,8,100 [rounds]
 * java -cp 'agnostic-sam-spark.jar:lib/*' io.github.agnosticsam.spark.RingBench --steps djl mlp,resnet-small 2 [rounds]
 * </pre>
 */
public final class RingBench {
    private RingBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length >= 1 && args[0].equals("--replica")) {
            replica(args);
            return;
        }
        boolean steps = args.length >= 1 && args[0].equals("--steps");
        if (args.length < (steps ? 4 : 2)) {
            System.err.println("usage: RingBench REPLICAS MB[,MB...] [ROUNDS]\n"
                    + "       RingBench --steps ENGINE MODEL[,MODEL...] REPLICAS [ROUNDS]");
            System.exit(2);
        }
        int n;
        int rounds;
        try {
            n = Integer.parseInt(args[steps ? 3 : 0]);
            rounds = args.length > (steps ? 4 : 2) ? Integer.parseInt(args[steps ? 4 : 2]) : 30;
        } catch (NumberFormatException e) {
            System.err.println("RingBench: REPLICAS and ROUNDS must be whole numbers, got " + e.getMessage());
            System.exit(2);
            return;
        }
        String sizes = steps ? "steps:" + args[1] + ":" + args[2] : args[1];
        if (n < 2 || rounds < 1) {
            System.err.println("RingBench: REPLICAS must be >= 2 and ROUNDS >= 1, got " + n + " and " + rounds);
            System.exit(2);
        }
        Path folder = Files.createTempDirectory("ring-bench");
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        List<Process> replicas = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            replicas.add(new ProcessBuilder(ProcessHandle.current().info().command().orElseThrow(), "-Xmx1200m", "-cp",
                    System.getProperty("java.class.path"), RingBench.class.getName(), "--replica", Integer.toString(r),
                    Integer.toString(n), folder.toString(), HexFormat.of().formatHex(secret), sizes,
                    Integer.toString(rounds)).redirectError(ProcessBuilder.Redirect.INHERIT)
                    .redirectOutput(r == 0 ? ProcessBuilder.Redirect.INHERIT : ProcessBuilder.Redirect.DISCARD).start());
        }
        int status = 0;
        for (Process p : replicas) {
            if (!p.waitFor(30, TimeUnit.MINUTES)) {
                p.destroyForcibly().waitFor();
            }
            status = Math.max(status, p.exitValue());
        }
        System.exit(status);
    }

    /**
     * The replicas' addresses through a folder they share (what Spark's allGather does on a
     * cluster): this one's port published atomically, then every one's read, waiting for them.
     */
    static List<InetSocketAddress> rendezvous(Path folder, int rank, int n, RingCollective.Listener listener)
            throws IOException, InterruptedException {
        Files.writeString(folder.resolve(rank + ".tmp"), Integer.toString(listener.address().getPort()));
        Files.move(folder.resolve(rank + ".tmp"), folder.resolve(rank + ".address"), StandardCopyOption.ATOMIC_MOVE);
        List<InetSocketAddress> ring = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            Path theirs = folder.resolve(r + ".address");
            while (!Files.exists(theirs)) {
                Thread.sleep(10);
            }
            ring.add(new InetSocketAddress(InetAddress.getLoopbackAddress(),
                    Integer.parseInt(Files.readString(theirs, StandardCharsets.US_ASCII).strip())));
        }
        return ring;
    }

    private static void replica(String[] args) throws IOException, InterruptedException {
        int rank = Integer.parseInt(args[1]);
        int n = Integer.parseInt(args[2]);
        Path folder = Path.of(args[3]);
        byte[] secret = HexFormat.of().parseHex(args[4]);
        int rounds = Integer.parseInt(args[6]);
        try (RingCollective.Listener listener = RingCollective.listen(InetAddress.getLoopbackAddress())) {
            List<InetSocketAddress> ring = rendezvous(folder, rank, n, listener);
            try (RingCollective c = listener.join(rank, ring, secret, Duration.ofMinutes(2))) {
                if (args[5].startsWith("steps:")) {
                    String[] what = args[5].split(":");
                    for (String model : what[2].split(",")) {
                        steps(what[1], model, new Timed(c), rounds);
                    }
                    return;
                }
                double[] megabytes = Arrays.stream(args[5].split(",")).mapToDouble(Double::parseDouble).toArray();
                if (rank == 0) {
                    System.out.printf(Locale.ROOT, "ring all-reduce of float32 buffers, %d replicas (processes) on "
                            + "loopback, %d rounds after %d warm-up, median ms:%n", n, rounds, rounds / 2 + 3);
                }
                for (double mb : megabytes) {
                    float[] buffer = new float[(int) Math.round(mb * 1e6 / Float.BYTES)];
                    double[] times = new double[rounds];
                    for (int i = -(rounds / 2 + 3); i < rounds; i++) {
                        Arrays.fill(buffer, 1);
                        long t0 = System.nanoTime();
                        c.allReduceSum(buffer);
                        if (i >= 0) {
                            times[i] = (System.nanoTime() - t0) / 1e6;
                        }
                    }
                    if (buffer[0] != n) {
                        throw new IllegalStateException("the sum of " + n + " ones is " + buffer[0]);
                    }
                    Arrays.sort(times);
                    if (rank == 0) {
                        System.out.printf(Locale.ROOT, "%8.1f MB %10.3f ms%n", mb, times[rounds / 2]);
                    }
                }
            }
        }
    }

    /** Steps of one model on this replica; replica 0 prints the medians. */
    private static void steps(String engineName, String model, Timed ring, int rounds) {
        ModelSpec spec = ModelSpec.standard(model);
        int n = ring.size();
        SplittableRandom random = new SplittableRandom(0);
        Batch train = SyntheticBatches.learnable(spec, 128, random).shard(ring.rank(), n, "train");
        Batch validation = SyntheticBatches.learnable(spec, 32, random).shard(ring.rank(), n, "validation");
        Optimizer optimizer = Optimizers.named("agnostic-sam")
                .base(Sgd.builder().lr(0.01).momentum(0.9).weightDecay(5e-4).build()).build();
        try (Engine engine = Engines.load(engineName, new EngineOptions(Device.CPU, 1, Map.of()));
                Network network = engine.build(spec, spec.initialParameters(0));
                Training training = Training.replica(network, optimizer, BadValuePolicy.SKIP, ring)) {
            double[] stepMs = new double[rounds];
            double[] reduceMs = new double[rounds];
            for (int i = -(rounds / 2 + 3); i < rounds; i++) {
                ring.nanos = 0;
                long t0 = System.nanoTime();
                training.step(train, validation).loss();
                if (i >= 0) {
                    stepMs[i] = (System.nanoTime() - t0) / 1e6;
                    reduceMs[i] = ring.nanos / 1e6;
                }
            }
            Arrays.sort(stepMs);
            Arrays.sort(reduceMs);
            if (ring.rank() == 0) {
                System.out.printf(Locale.ROOT, "%s %s, %d replicas (processes), batch 128 + 32, 1 thread each: step "
                        + "%.2f ms, all-reduce in it %.2f ms (%.0f %%), median of %d%n", engine.name(), model, n,
                        stepMs[rounds / 2], reduceMs[rounds / 2], 100 * reduceMs[rounds / 2] / stepMs[rounds / 2],
                        rounds);
            }
        }
    }

    /** The ring, timing its all-reduces. */
    private static final class Timed implements Collective {
        private final RingCollective ring;
        long nanos;

        Timed(RingCollective ring) {
            this.ring = ring;
        }

        @Override
        public int rank() {
            return ring.rank();
        }

        @Override
        public int size() {
            return ring.size();
        }

        @Override
        public void allReduceSum(float[] buffer) {
            long t0 = System.nanoTime();
            ring.allReduceSum(buffer);
            nanos += System.nanoTime() - t0;
        }

        @Override
        public void allReduceSum(double[] buffer) {
            long t0 = System.nanoTime();
            ring.allReduceSum(buffer);
            nanos += System.nanoTime() - t0;
        }

        @Override
        public void close() {
            // the ring is closed by its owner
        }
    }
}
