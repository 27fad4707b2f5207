package io.github.agnosticsam.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.agnosticsam.Engines;
import io.github.agnosticsam.conformance.SyntheticBatches;
import io.github.agnosticsam.model.Activation;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.AgnosticSam;
import io.github.agnosticsam.optim.Optimizer;
import io.github.agnosticsam.optim.Sgd;
import io.github.agnosticsam.spi.Collective;
import io.github.agnosticsam.spi.Collective.CollectiveException;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.spi.support.InProcessCollective;
import io.github.agnosticsam.training.BadValuePolicy;
import io.github.agnosticsam.training.DataParallelTraining;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ring all-reduce: its sums and their order, its handshake against strangers, and replicas in
 * JVMs of their own — a training as in one process bit for bit, a replica killed (SIGKILL) or
 * stopped (SIGSTOP) costing the others the timeout, never a hang.
 */
class RingTest {
    static final ModelSpec.Mlp MODEL = new ModelSpec.Mlp(new int[] {6, 12, 9, 4}, Activation.TANH, 0);
    static final long SEED = 7;
    static final int STEPS = 5;
    private static final byte[] SECRET = "a secret of this attempt, 32 by".getBytes(StandardCharsets.US_ASCII);

    static Optimizer optimizer() {
        return AgnosticSam.builder().base(Sgd.builder().lr(0.1).momentum(0.9).build()).rho1(0.3).rho2(0.1).build();
    }

    /** A seeded batch of {@code n} examples for the test's model. */
    static Batch batch(long seed, int n) {
        return SyntheticBatches.learnable(MODEL, n, new SplittableRandom(seed));
    }

    /** {@code size} replicas on threads, joined over loopback; {@code body} runs on each. */
    private static void onRing(int size, Consumer<RingCollective> body) throws Exception {
        List<RingCollective.Listener> listeners = new ArrayList<>();
        List<InetSocketAddress> ring = new ArrayList<>();
        for (int r = 0; r < size; r++) {
            listeners.add(RingCollective.listen(InetAddress.getLoopbackAddress()));
            ring.add(listeners.get(r).address());
        }
        ExecutorService pool = Executors.newFixedThreadPool(size);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int r = 0; r < size; r++) {
                int rank = r;
                done.add(pool.submit(() -> {
                    try (RingCollective c = listeners.get(rank).join(rank, ring, SECRET, Duration.ofSeconds(20))) {
                        body.accept(c);
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void threeReplicasSumEachChunkAroundTheRingFromItsOwnRank() throws Exception {
        int n = 3;
        int length = 10; // chunks of 3, 3 and 4 elements
        float[][] inputs = new float[n][length];
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < length; i++) {
                inputs[r][i] = r == i % n ? 1e8f : (r + i) % 2 == 0 ? 1f : -1e8f + r; // the order shows in the sum
            }
        }
        float[][] outputs = new float[n][];
        onRing(n, c -> {
            float[] buffer = inputs[c.rank()].clone();
            c.allReduceSum(buffer);
            outputs[c.rank()] = buffer;
        });
        for (int i = 0; i < length; i++) {
            int chunk = i < 3 ? 0 : i < 6 ? 1 : 2;
            float expected = (inputs[chunk][i] + inputs[(chunk + 1) % n][i]) + inputs[(chunk + 2) % n][i];
            for (int r = 0; r < n; r++) {
                assertThat(outputs[r][i]).as("element %d on rank %d", i, r).isEqualTo(expected);
            }
        }
    }

    @Test
    void twoReplicasSumAsTheInProcessGroupBitForBitInFloatAndDouble() throws Exception {
        SplittableRandom random = new SplittableRandom(3);
        int length = 100_003;
        float[][] floats = new float[2][length];
        double[][] doubles = new double[2][length];
        for (int r = 0; r < 2; r++) {
            for (int i = 0; i < length; i++) {
                floats[r][i] = (float) random.nextGaussian();
                doubles[r][i] = random.nextGaussian() * 1e10;
            }
        }
        float[][] ringFloats = new float[2][];
        double[][] ringDoubles = new double[2][];
        onRing(2, c -> {
            ringFloats[c.rank()] = floats[c.rank()].clone();
            c.allReduceSum(ringFloats[c.rank()]);
            ringDoubles[c.rank()] = doubles[c.rank()].clone();
            c.allReduceSum(ringDoubles[c.rank()]);
        });
        List<Collective> group = InProcessCollective.group(2, Duration.ofSeconds(20));
        float[][] localFloats = {floats[0].clone(), floats[1].clone()};
        double[][] localDoubles = {doubles[0].clone(), doubles[1].clone()};
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                int rank = r;
                done.add(pool.submit(() -> {
                    group.get(rank).allReduceSum(localFloats[rank]);
                    group.get(rank).allReduceSum(localDoubles[rank]);
                }));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        for (int r = 0; r < 2; r++) {
            assertThat(ringFloats[r]).isEqualTo(localFloats[0]);
            assertThat(ringDoubles[r]).isEqualTo(localDoubles[0]);
        }
    }

    @Test
    void strangersAreRefusedBeforeAnyDataAndThePortClosesOnceTheRingStands() throws Exception {
        RingCollective.Listener first = RingCollective.listen(InetAddress.getLoopbackAddress());
        RingCollective.Listener second = RingCollective.listen(InetAddress.getLoopbackAddress());
        List<InetSocketAddress> ring = List.of(first.address(), second.address());
        // Before the ring forms: a process that speaks something else, and one with the wrong secret.
        try (Socket garbage = new Socket()) {
            garbage.connect(second.address());
            garbage.getOutputStream().write("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        // One that knows the protocol and claims to be rank 0, without the secret: its proof is random.
        try (Socket impostor = new Socket()) {
            impostor.connect(second.address());
            java.io.DataOutputStream o = new java.io.DataOutputStream(impostor.getOutputStream());
            o.write("agnsam-ring-1".getBytes(StandardCharsets.US_ASCII));
            o.writeInt(0);
            o.writeInt(1);
            byte[] random = new byte[64]; // its challenge, and a proof made without the secret
            new SplittableRandom(5).nextBytes(random);
            o.write(random);
            o.flush();
        }
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<RingCollective> a = pool.submit(() -> first.join(0, ring, SECRET, Duration.ofSeconds(20)));
            Future<RingCollective> b = pool.submit(() -> second.join(1, ring, SECRET, Duration.ofSeconds(20)));
            try (RingCollective ra = a.get(30, TimeUnit.SECONDS); RingCollective rb = b.get(30, TimeUnit.SECONDS)) {
                assertThat(second.refused()).as("the HTTP request and the impostor, refused").isEqualTo(2);
                Future<?> other = pool.submit(() -> rb.allReduceSum(new float[] {2}));
                float[] one = {1};
                ra.allReduceSum(one);
                other.get(30, TimeUnit.SECONDS);
                assertThat(one[0]).isEqualTo(3f);
                try (Socket late = new Socket()) {
                    assertThatThrownBy(() -> late.connect(second.address(), 2000))
                            .as("no port accepts anyone once the ring stands").isInstanceOf(IOException.class);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void silentAndDrippingStrangersCostAtMostTheHandshakeLimitEach() throws Exception {
        RingCollective.Listener first = RingCollective.listen(InetAddress.getLoopbackAddress());
        RingCollective.Listener second = RingCollective.listen(InetAddress.getLoopbackAddress());
        List<InetSocketAddress> ring = List.of(first.address(), second.address());
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try (Socket silent = new Socket(); Socket dripping = new Socket()) {
            silent.connect(second.address()); // connects and says nothing
            dripping.connect(second.address());
            pool.submit(() -> { // one byte of the magic every half second, forever
                for (int i = 0; i < 100; i++) {
                    dripping.getOutputStream().write('a');
                    Thread.sleep(500);
                }
                return null;
            });
            long start = System.nanoTime();
            Future<RingCollective> a = pool.submit(() -> first.join(0, ring, SECRET, Duration.ofSeconds(8)));
            Future<RingCollective> b = pool.submit(() -> second.join(1, ring, SECRET, Duration.ofSeconds(8)));
            try (RingCollective ra = a.get(30, TimeUnit.SECONDS); RingCollective rb = b.get(30, TimeUnit.SECONDS)) {
                double seconds = (System.nanoTime() - start) / 1e9;
                assertThat(second.refused()).isEqualTo(2);
                assertThat(seconds).as("two strangers of 2 s each at most, within the 8 s timeout").isLessThan(6.5);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aNextReplicaThatStopsReadingFailsTheOthersWithinTheTimeoutWhateverN() throws Exception {
        int n = 3;
        List<RingCollective.Listener> listeners = new ArrayList<>();
        List<InetSocketAddress> ring = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            listeners.add(RingCollective.listen(InetAddress.getLoopbackAddress()));
            ring.add(listeners.get(r).address());
        }
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<Object>> outcomes = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                int rank = r;
                outcomes.add(pool.submit(() -> {
                    try (RingCollective c = listeners.get(rank).join(rank, ring, SECRET, Duration.ofSeconds(1))) {
                        if (rank == 2) {
                            Thread.sleep(30_000); // in the ring, reading nothing: stopped
                            return "stopped";
                        }
                        long start = System.nanoTime();
                        try {
                            c.allReduceSum(new float[16_000_000]); // 64 MB: more than the sockets buffer
                            return "reduced";
                        } catch (CollectiveException e) {
                            return (System.nanoTime() - start) / 1e9;
                        }
                    }
                }));
            }
            for (int r = 0; r < 2; r++) {
                Object outcome = outcomes.get(r).get(60, TimeUnit.SECONDS);
                assertThat(outcome).as("rank %d fails instead of hanging", r).isInstanceOf(Double.class);
                assertThat((Double) outcome).as("rank %d's seconds", r).isLessThan(10);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aReplicaThatNeverComesFailsTheJoinWithinTheTimeoutNamingIt() {
        RingCollective.Listener alone = RingCollective.listen(InetAddress.getLoopbackAddress());
        RingCollective.Listener absent = RingCollective.listen(InetAddress.getLoopbackAddress());
        List<InetSocketAddress> ring = List.of(alone.address(), absent.address());
        absent.close();
        long start = System.nanoTime();
        assertThatThrownBy(() -> alone.join(0, ring, SECRET, Duration.ofMillis(500)))
                .isInstanceOf(CollectiveException.class).hasMessageContaining("rank 1");
        assertThat((System.nanoTime() - start) / 1e9).isLessThan(10);
        assertThatThrownBy(() -> RingCollective.listen(InetAddress.getLoopbackAddress()).join(0, ring, new byte[8],
                Duration.ofSeconds(1))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least 16 bytes, got 8");
        assertThatThrownBy(() -> RingCollective.listen(InetAddress.getLoopbackAddress()).join(0, ring, SECRET,
                Duration.ofNanos(999_999))).as("below 1 ms a socket timeout would mean none")
                .hasMessageContaining("at least 1 ms");
    }

    // Replicas in JVMs of their own.

    private static Process child(Path folder, String mode, int rank, int size, long timeoutMillis) throws IOException {
        List<String> command = List.of(ProcessHandle.current().info().command().orElseThrow(), "-cp",
                System.getProperty("java.class.path"), RingChild.class.getName(), mode, Integer.toString(rank),
                Integer.toString(size), folder.toString(), HexFormat.of().formatHex(SECRET),
                Long.toString(timeoutMillis));
        return new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(folder.resolve(rank + ".log").toFile()).start();
    }

    @Test
    void twoReplicasInTwoJvmsTrainAsTwoInOneProcessBitForBit(@TempDir Path folder) throws Exception {
        List<Process> replicas = List.of(child(folder, "train", 0, 2, 60_000), child(folder, "train", 1, 2, 60_000));
        for (Process p : replicas) {
            assertThat(p.waitFor(180, TimeUnit.SECONDS)).isTrue();
        }
        for (int r = 0; r < 2; r++) {
            assertThat(replicas.get(r).exitValue()).as(Files.readString(folder.resolve(r + ".log"))).isZero();
        }
        List<String> expected = new ArrayList<>();
        try (Engine engine = Engines.load("reference", EngineOptions.DEFAULT);
                Network a = engine.build(MODEL, MODEL.initialParameters(SEED));
                Network b = engine.build(MODEL, MODEL.initialParameters(SEED));
                DataParallelTraining t = DataParallelTraining.start(List.of(a, b), optimizer(), BadValuePolicy.SKIP)) {
            for (int s = 0; s < STEPS; s++) {
                t.step(batch(s, 16), batch(1000 + s, 8));
            }
            for (HostTensor p : a.parameters()) {
                for (double v : p.values()) {
                    expected.add(Long.toString(Double.doubleToRawLongBits(v)));
                }
            }
        }
        for (int r = 0; r < 2; r++) {
            assertThat(Files.readAllLines(folder.resolve(r + ".params"))).as("replica %d's parameters", r)
                    .isEqualTo(expected);
        }
    }

    @Test
    void aReplicaKilledWithSigkillFailsTheOtherWithinTheTimeout(@TempDir Path folder) throws Exception {
        assertTheOtherFailsWhen(folder, p -> p.destroyForcibly());
    }

    @Test
    void aReplicaStoppedWithSigstopFailsTheOtherWithinTheTimeout(@TempDir Path folder) throws Exception {
        assertTheOtherFailsWhen(folder, p -> signal("STOP", p));
    }

    private static void assertTheOtherFailsWhen(Path folder, Consumer<Process> fault) throws Exception {
        Process zero = child(folder, "loop", 0, 2, 2_000);
        Process one = child(folder, "loop", 1, 2, 2_000);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!(Files.exists(folder.resolve("0.joined")) && Files.exists(folder.resolve("1.joined")))
                    && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            Thread.sleep(300); // reducing now
            assertThat(zero.isAlive()).as(Files.readString(folder.resolve("0.log"))).isTrue();
            long faulted = System.nanoTime();
            fault.accept(one);
            assertThat(zero.waitFor(30, TimeUnit.SECONDS)).as("replica 0 ends instead of hanging").isTrue();
            double seconds = (System.nanoTime() - faulted) / 1e9;
            String log = Files.readString(folder.resolve("0.log"));
            assertThat(zero.exitValue()).as(log).isEqualTo(3);
            assertThat(log).contains("ring broke: rank 0 of 2").contains("rank 1");
            assertThat(seconds).as("within the 2 s timeout and some").isLessThan(15);
        } finally {
            signal("CONT", one);
            one.destroyForcibly();
            zero.destroyForcibly();
        }
    }

    private static void signal(String name, Process p) {
        try {
            new ProcessBuilder("kill", "-" + name, Long.toString(p.pid())).start().waitFor(10, TimeUnit.SECONDS);
        } catch (IOException e) {
            throw new IllegalStateException("kill -" + name + " " + p.pid(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
