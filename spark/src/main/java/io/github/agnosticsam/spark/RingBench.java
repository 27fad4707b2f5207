package io.github.agnosticsam.spark;

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
import java.util.concurrent.TimeUnit;

/**
 * The ring all-reduce alone, between processes on this machine's loopback: for each buffer size,
 * the median time of one {@link RingCollective#allReduceSum} of floats after a warm-up, measured
 * by replica 0. Each replica is a JVM of its own, started from this class path.
 *
 * <pre>
 * java -cp agnostic-sam-spark.jar:agnostic-sam-core.jar io.github.agnosticsam.spark.RingBench 2 0.8,8,100 [rounds]
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
        if (args.length < 2) {
            System.err.println("usage: RingBench REPLICAS MB[,MB...] [ROUNDS]");
            System.exit(2);
        }
        int n = Integer.parseInt(args[0]);
        String sizes = args[1];
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 30;
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
        double[] megabytes = Arrays.stream(args[5].split(",")).mapToDouble(Double::parseDouble).toArray();
        int rounds = Integer.parseInt(args[6]);
        try (RingCollective.Listener listener = RingCollective.listen(InetAddress.getLoopbackAddress())) {
            List<InetSocketAddress> ring = rendezvous(folder, rank, n, listener);
            try (RingCollective c = listener.join(rank, ring, secret, Duration.ofMinutes(2))) {
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
}
