package io.github.agnosticsam.spark;

import io.github.agnosticsam.Engines;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.training.BadValuePolicy;
import io.github.agnosticsam.training.Training;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;

/**
 * One replica in a JVM of its own, as an executor runs it: listens on loopback, publishes its
 * address in a shared folder (what Spark's {@code allGather} does), reads the others', joins the
 * ring and then either trains ({@code train}: {@link RingTest#STEPS} steps of the test's
 * optimizer on its shards, final parameters written to {@code rank.params}) or reduces in a loop
 * ({@code loop}: until killed or the ring breaks). Exit status 0 when done, 3 when the ring broke
 * (the message on stderr).
 *
 * <p>Arguments: mode, rank, size, folder, secret (hex), timeout in milliseconds.
 */
public final class RingChild {
    private RingChild() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        int rank = Integer.parseInt(args[1]);
        int size = Integer.parseInt(args[2]);
        Path folder = Path.of(args[3]);
        byte[] secret = HexFormat.of().parseHex(args[4]);
        Duration timeout = Duration.ofMillis(Long.parseLong(args[5]));
        try (RingCollective.Listener listener = RingCollective.listen(InetAddress.getLoopbackAddress())) {
            List<InetSocketAddress> ring = RingBench.rendezvous(folder, rank, size, listener);
            try (RingCollective collective = listener.join(rank, ring, secret, timeout)) {
                Files.writeString(folder.resolve(rank + ".joined"), "");
                if (mode.equals("loop")) {
                    float[] buffer = new float[100_000];
                    for (long round = 0; ; round++) {
                        java.util.Arrays.fill(buffer, 1);
                        collective.allReduceSum(buffer);
                    }
                }
                train(rank, size, folder, collective);
            }
        } catch (io.github.agnosticsam.spi.Collective.CollectiveException e) {
            System.err.println("ring broke: " + e.getMessage());
            System.exit(3);
        }
    }

    private static void train(int rank, int size, Path folder, RingCollective collective) throws Exception {
        ModelSpec model = RingTest.MODEL;
        try (Engine engine = Engines.load("reference", EngineOptions.DEFAULT);
                Network network = engine.build(model, model.initialParameters(RingTest.SEED));
                Training training = Training.replica(network, RingTest.optimizer(), BadValuePolicy.SKIP, collective)) {
            for (int s = 0; s < RingTest.STEPS; s++) {
                Batch train = RingTest.batch(s, 16).shard(rank, size, "train");
                Batch validation = RingTest.batch(1000 + s, 8).shard(rank, size, "validation");
                training.step(train, validation);
            }
            StringBuilder out = new StringBuilder();
            for (HostTensor t : network.parameters()) {
                for (double v : t.values()) {
                    out.append(Double.doubleToRawLongBits(v)).append('\n');
                }
            }
            Files.writeString(folder.resolve(rank + ".params"), out.toString());
        }
    }
}
