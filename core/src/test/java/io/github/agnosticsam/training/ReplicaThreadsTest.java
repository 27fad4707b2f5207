package io.github.agnosticsam.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.agnosticsam.spi.Pass;
import io.github.agnosticsam.spi.SummaryLayout;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The rule every in-process driver of replicas shares: results, failures, stalls, one verdict. */
class ReplicaThreadsTest {

    @Test
    void everyReplicaRunsOnItsThreadAndTheResultsComeInRankOrder() {
        try (ReplicaThreads threads = ReplicaThreads.start(3, Duration.ofMinutes(1))) {
            List<String> results = threads.run(r -> {
                double[] buffer = {r + 1};
                threads.member(r).allReduceSum(buffer);
                return r + ":" + buffer[0] + ":" + Thread.currentThread().getName();
            });
            assertThat(results).containsExactly("0:6.0:agnostic-sam replica 0 of 3", "1:6.0:agnostic-sam replica 1 of 3",
                    "2:6.0:agnostic-sam replica 2 of 3");
        }
    }

    @Test
    void aReplicaThatFailsIsRethrownNotItsPeersCollectiveExceptionAndTheGroupIsBroken() {
        try (ReplicaThreads threads = ReplicaThreads.start(3, Duration.ofMinutes(1))) {
            long start = System.nanoTime();
            assertThatThrownBy(() -> threads.run(r -> {
                if (r == 1) {
                    throw new IllegalArgumentException("replica 1's shard is bad");
                }
                threads.member(r).allReduceSum(new float[] {1}); // waits for replica 1, which left
                return r;
            })).isInstanceOf(IllegalArgumentException.class).hasMessage("replica 1's shard is bad");
            assertThat((System.nanoTime() - start) / 1e9).as("the others fail when replica 1 leaves, not at the "
                    + "timeout").isLessThan(30);
            assertThatThrownBy(() -> threads.run(r -> r)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("replica 1 failed").hasMessageContaining("restore the newest checkpoint");
        }
    }

    @Test
    void aReplicaStuckOutsideTheReducePointCostsTheTimeoutNotAHang() {
        Duration timeout = Duration.ofMillis(300);
        try (ReplicaThreads threads = ReplicaThreads.start(2, timeout)) {
            long start = System.nanoTime();
            assertThatThrownBy(() -> threads.run(r -> {
                if (r == 1) {
                    sleep(60_000); // stuck in its engine, say; never reaches the reduce point
                }
                threads.member(r).allReduceSum(new float[] {1});
                return r;
            })).isInstanceOf(IllegalStateException.class).hasMessageContaining("replica 0 failed")
                    .hasMessageContaining("replica 1 did not end within PT0.3S");
            assertThat((System.nanoTime() - start) / 1e9).as("two timeouts: replica 0's wait, then the grace")
                    .isLessThan(20);
        }
    }

    @Test
    void aNonFiniteStepOnEveryReplicaIsOneVerdictAndTheGroupGoesOn() {
        StepResult skipped = new StepResult(0, List.of(Pass.TRAIN), List.of("w"), List.of(),
                new SummaryLayout(1, 1, 0), () -> new double[] {Double.NaN, 1, 1});
        try (ReplicaThreads threads = ReplicaThreads.start(2, Duration.ofMinutes(1))) {
            assertThatThrownBy(() -> threads.run(r -> {
                throw new NonFiniteStepException(skipped);
            })).isInstanceOf(NonFiniteStepException.class);
            assertThat(threads.run(r -> r)).containsExactly(0, 1);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
