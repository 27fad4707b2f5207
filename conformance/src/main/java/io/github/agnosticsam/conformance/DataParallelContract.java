package io.github.agnosticsam.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.AgnosticSam;
import io.github.agnosticsam.optim.Sgd;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.spi.UnsupportedFeatureException;
import io.github.agnosticsam.training.BadValuePolicy;
import io.github.agnosticsam.training.Checkpoint;
import io.github.agnosticsam.training.CheckpointException;
import io.github.agnosticsam.training.DataParallelTraining;
import io.github.agnosticsam.training.StepPrograms;
import io.github.agnosticsam.training.StepResult;
import io.github.agnosticsam.training.Training;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Data-parallel steps (docs/algorithm.md, "Data-parallel steps") beyond the golden replica cases:
 * one verdict for every replica when one replica's shard holds a bad value, a program without a
 * reduce point refused as a replica, replicas that hold
 * bit-identical values after every step (running statistics included), and a data-parallel run
 * resumed from a checkpoint that goes on bit for bit — refused, naming both, with another number
 * of replicas.
 */
public interface DataParallelContract extends EngineContract {

    /** Agnostic-SAM EXACT over SGD with momentum: every pass, the validation shards, momentum state. */
    private static AgnosticSam optimizer() {
        return AgnosticSam.builder().base(Sgd.builder().lr(0.1).momentum(0.9).build()).rho1(0.3).rho2(0.1).build();
    }

    /** {@code n} networks of {@code model} at the same initial values. */
    private List<Network> networks(ModelSpec model, long seed, int n) {
        List<Network> out = new ArrayList<>(n);
        for (int r = 0; r < n; r++) {
            out.add(kit().build(model, model.initialParameters(seed)));
        }
        return out;
    }

    private static void closeAll(List<Network> networks) {
        networks.forEach(Network::close);
    }

    /** Everything of every replica that the next step depends on. */
    private static List<RunState> states(DataParallelTraining t) {
        List<RunState> out = new ArrayList<>();
        for (int r = 0; r < t.replicas(); r++) {
            out.add(RunState.of(t.replica(r)));
        }
        return out;
    }

    @Test
    default void aBadValueInOneReplicasShardSkipsTheStepOnEveryReplica() {
        Data data = new Data(61);
        List<Network> nets = networks(Kit.MODEL, 61, 2);
        try (DataParallelTraining t = DataParallelTraining.start(nets, optimizer(), BadValuePolicy.SKIP)) {
            t.step(data.train(0), data.validation(0));
            List<RunState> before = states(t);
            // Row 12 of 16: replica 1's shard; replica 0's is clean.
            double[] x = data.train(1).features().values().clone();
            x[12 * 6 + 2] = Double.NaN;
            Batch poisoned = new Batch(new HostTensor(data.train(1).features().shape(), x), data.train(1).labels());
            StepResult r = t.step(poisoned, data.validation(1));
            assertThat(r.applied()).as("a NaN in replica 1's shard: no replica applies the step (one verdict for "
                    + "all: suspect the verdicts in the reduced buffer)").isFalse();
            assertThat(r.skipReason()).get().asString().contains("replica 1 of 2").contains("pass 1 (train)");
            List<RunState> after = states(t);
            for (int k = 0; k < 2; k++) {
                assertThat(after.get(k).parameters()).as("replica %d's parameters after a skipped step", k)
                        .isEqualTo(before.get(k).parameters());
                assertThat(after.get(k).state()).as("replica %d's optimizer state after a skipped step", k)
                        .isEqualTo(before.get(k).state());
            }
            assertThat(t.skippedSteps()).isEqualTo(1);
            StepResult clean = t.step(data.train(2), data.validation(2));
            assertThat(clean.applied()).isTrue();
            assertThat(states(t).get(1)).as("replicas hold the same values after the next clean step")
                    .isEqualTo(states(t).get(0));
        } finally {
            closeAll(nets);
        }
    }

    @Test
    default void aProgramWithoutAReducePointIsRefusedAsAReplicaAndChangesNothing() {
        Data data = new Data(64);
        List<Network> nets = networks(Kit.MODEL, 64, 2);
        List<HostTensor> before = nets.get(1).parameters();
        try {
            // The bare passes of the optimizer: every pass, no reduce point, so its replicas would diverge.
            StepProgram alone = StepPrograms.bareGradients(optimizer());
            Throwable refused = catchThrowable(() -> {
                try (DataParallelTraining t = DataParallelTraining.start(nets, alone, BadValuePolicy.SKIP)) {
                    t.step(data.train(0), data.validation(0));
                }
            });
            assertThat(refused).as("a replica's program must reduce once per step (suspect the engine's check after "
                    + "the program returned)").isInstanceOf(UnsupportedFeatureException.class)
                    .hasMessageContaining("has no reduce point").hasMessageContaining("one of 2 replicas");
            for (Network n : nets) {
                assertThat(n.parameters()).as("parameters after the refusal").isEqualTo(before);
            }
        } finally {
            closeAll(nets);
        }
    }

    @Test
    default void aSecondThreadEnteringADataParallelStepFailsFastAndTheRunningStepIsUndisturbed() throws Exception {
        Data data = new Data(65);
        HeldStep held = new HeldStep();
        Sgd blocking = Sgd.builder().lr(held.lr(0.1)).build();
        List<Network> nets = networks(Kit.MODEL, 65, 2);
        try (DataParallelTraining t = DataParallelTraining.start(nets, blocking, BadValuePolicy.THROW)) {
            t.step(data.train(0));
            HeldStep.Race<StepResult> race = held.race(() -> t.step(data.train(1)), () -> t.step(data.train(2)));
            assertThat(race.secondThrew()).as("a second thread's step would pair the wrong shards at the reduce point")
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("DataParallelTraining.step called from two threads at once");
            assertThat(race.first().applied()).as("the step that was running").isTrue();
            assertThat(t.steps()).as("the refused call is no step").isEqualTo(2);
            assertThat(states(t).get(1)).isEqualTo(states(t).get(0));
        } finally {
            closeAll(nets);
        }
    }

    @Test
    default void replicasHoldBitIdenticalValuesAfterEveryStep() {
        ModelSpec model = kit().statisticsModel();
        Data data = new Data(62);
        List<Network> nets = networks(model, 62, 2); // validation shards of 2: BatchNorm needs two examples
        try (DataParallelTraining t = DataParallelTraining.start(nets, optimizer(), BadValuePolicy.THROW)) {
            for (int s = 0; s < 3; s++) {
                t.step(data.train(s), data.validation(s));
                List<RunState> states = states(t);
                for (int k = 1; k < 2; k++) {
                    assertThat(states.get(k)).as("step %d: replica %d holds replica 0's parameters, running "
                            + "statistics (averaged over the replicas: suspect the reduce point) and state", s, k)
                            .isEqualTo(states.get(0));
                }
            }
            assertThatThrownBy(() -> t.step(data.train(3).rows(0, 5), data.validation(3)))
                    .as("5 examples cannot be shared by 2 replicas").isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("train batch of 5 examples cannot be split into 2 equal shards");
            t.step(data.train(3), data.validation(3)); // the refusal changed nothing and broke nothing
        } finally {
            closeAll(nets);
        }
    }

    @Test
    default void aResumedDataParallelRunGoesOnBitForBitAndAnotherNumberOfReplicasIsRefused() {
        ModelSpec model = kit().statisticsModel();
        Data data = new Data(63, 6);
        List<Network> uninterrupted = networks(model, 63, 2);
        List<Network> resumed = networks(model, 99, 2); // other values: the checkpoint must set them all
        List<Network> alone = networks(model, 63, 1);
        try (DataParallelTraining a = DataParallelTraining.start(uninterrupted, optimizer(), BadValuePolicy.SKIP)) {
            Checkpoint checkpoint = null;
            for (int s = 0; s < 6; s++) {
                if (s == 3) {
                    java.nio.file.Path file = kit().directory().resolve("replicas.safetensors");
                    a.checkpoint().write(file);
                    checkpoint = Checkpoint.read(file);
                }
                a.step(data.train(s), data.validation(s));
            }
            assertThat(checkpoint.replicas()).isEqualTo(2);
            try (DataParallelTraining b = DataParallelTraining.start(resumed, optimizer(), BadValuePolicy.SKIP)) {
                b.restore(checkpoint);
                for (int s = 3; s < 6; s++) {
                    b.step(data.train(s), data.validation(s));
                }
                assertThat(states(b)).as("resumed at step 3 of 6: every replica as the run that never stopped")
                        .isEqualTo(states(a));
            }
            Checkpoint two = checkpoint;
            try (Training one = Training.start(alone.get(0), optimizer(), BadValuePolicy.SKIP)) {
                RunState untouched = RunState.of(one);
                assertThatThrownBy(() -> one.restore(two)).isInstanceOf(CheckpointException.class)
                        .hasMessageContaining("a run of 2 replicas, this run has 1");
                assertThat(RunState.of(one)).isEqualTo(untouched);
            }
        } finally {
            closeAll(uninterrupted);
            closeAll(resumed);
            closeAll(alone);
        }
    }
}
