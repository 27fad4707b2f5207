package io.github.agnosticsam.spi.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.agnosticsam.spi.Collective;
import io.github.agnosticsam.spi.Collective.CollectiveException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class InProcessCollectiveTest {
    private final ExecutorService threads = Executors.newCachedThreadPool();

    @AfterEach
    void stop() {
        threads.shutdownNow();
    }

    /** Runs {@code work} for each member on its own thread; the futures in rank order. */
    private List<Future<?>> onEach(List<Collective> members, Consumer<Collective> work) {
        List<Future<?>> done = new ArrayList<>();
        for (Collective m : members) {
            done.add(threads.submit(() -> work.accept(m)));
        }
        return done;
    }

    @Test
    void everyReplicaGetsTheSumTakenInRankOrder() throws Exception {
        // In float, 1e8 + 1 is 1e8: the order shows. ((x0 + x1) + x2) = 0, another order gives 1.
        float[][] buffers = {{1e8f, 0.1f}, {1f, 0.2f}, {-1e8f, 0.3f}};
        float[] expected = {(1e8f + 1f) + -1e8f, (0.1f + 0.2f) + 0.3f};
        assertThat(expected[0]).isZero();
        List<Collective> group = InProcessCollective.group(3, Duration.ofSeconds(10));
        for (Future<?> f : onEach(group, m -> m.allReduceSum(buffers[m.rank()]))) {
            f.get(10, TimeUnit.SECONDS);
        }
        for (float[] b : buffers) {
            assertThat(b).containsExactly(expected);
        }
    }

    @Test
    void manyRoundsOfDoublesAreTheSequentialSum() throws Exception {
        int n = 4;
        int rounds = 200;
        double[][][] data = new double[n][rounds][];
        SplittableRandom random = new SplittableRandom(7);
        for (int r = 0; r < n; r++) {
            for (int k = 0; k < rounds; k++) {
                data[r][k] = random.doubles(1 + k % 9, -1e6, 1e6).toArray();
            }
        }
        double[][] expected = new double[rounds][];
        for (int k = 0; k < rounds; k++) {
            expected[k] = data[0][k].clone();
            for (int r = 1; r < n; r++) {
                for (int i = 0; i < expected[k].length; i++) {
                    expected[k][i] += data[r][k][i];
                }
            }
        }
        List<Collective> group = InProcessCollective.group(n, Duration.ofSeconds(20));
        double[][][] got = new double[n][rounds][];
        for (Future<?> f : onEach(group, m -> {
            for (int k = 0; k < rounds; k++) {
                double[] b = data[m.rank()][k].clone();
                m.allReduceSum(b);
                got[m.rank()][k] = b;
            }
        })) {
            f.get(30, TimeUnit.SECONDS);
        }
        for (int r = 0; r < n; r++) {
            for (int k = 0; k < rounds; k++) {
                assertThat(got[r][k]).as("rank %d, round %d", r, k).containsExactly(expected[k]);
            }
        }
    }

    @Test
    void aGroupOfOneLeavesTheBufferAsItIs() {
        Collective alone = InProcessCollective.group(1, Duration.ofMillis(1)).get(0);
        float[] b = {Float.NaN, -0f, 3f};
        alone.allReduceSum(b);
        assertThat(Float.floatToRawIntBits(b[1])).isEqualTo(Float.floatToRawIntBits(-0f));
        assertThat(b[2]).isEqualTo(3f);
        assertThat(alone.rank()).isZero();
        assertThat(alone.size()).isEqualTo(1);
    }

    @Test
    void aStalledReplicaFailsTheOthersWithinTheTimeoutNamingIt() throws Exception {
        List<Collective> group = InProcessCollective.group(3, Duration.ofMillis(300));
        long start = System.nanoTime();
        List<Future<?>> waiting = onEach(group.subList(0, 2), m -> m.allReduceSum(new float[] {1f}));
        for (Future<?> f : waiting) {
            assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(CollectiveException.class)
                    .hasMessageContaining("ms for rank 2 at a reduce");
        }
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        // The group stays broken: the late replica, and any later call, fails at once.
        assertThatThrownBy(() -> group.get(2).allReduceSum(new float[] {1f})).isInstanceOf(CollectiveException.class)
                .hasMessageContaining("the replica group is broken");
    }

    @Test
    void aReplicaThatLeavesBreaksTheGroupForTheOthers() throws Exception {
        List<Collective> group = InProcessCollective.group(2, Duration.ofSeconds(30));
        Future<?> waiting = threads.submit(() -> group.get(0).allReduceSum(new double[] {1}));
        Thread.sleep(100);
        group.get(1).close();
        assertThatThrownBy(() -> waiting.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(CollectiveException.class)
                .hasMessageContaining("rank 1 left the group");
        assertThatThrownBy(() -> group.get(1).allReduceSum(new double[] {1})).isInstanceOf(CollectiveException.class)
                .hasMessageContaining("rank 1 has left the group");
    }

    @Test
    void buffersOfAnotherLengthOrTypeBreakTheGroupNamingBoth() throws Exception {
        List<Collective> group = InProcessCollective.group(2, Duration.ofSeconds(30));
        Future<?> first = threads.submit(() -> group.get(0).allReduceSum(new float[3]));
        Thread.sleep(100);
        assertThatThrownBy(() -> group.get(1).allReduceSum(new float[4])).isInstanceOf(CollectiveException.class)
                .hasMessageContaining("rank 1 reduces 4 floats, a peer 3 floats");
        assertThatThrownBy(() -> first.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(CollectiveException.class);
    }

    @Test
    void aGroupNeedsAReplicaAndAPositiveTimeout() {
        assertThatThrownBy(() -> InProcessCollective.group(0, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("got 0");
        assertThatThrownBy(() -> InProcessCollective.group(2, Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("positive");
    }
}
