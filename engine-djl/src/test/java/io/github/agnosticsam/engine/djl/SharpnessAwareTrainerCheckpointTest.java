package io.github.agnosticsam.engine.djl;

import static io.github.agnosticsam.engine.djl.SharpnessAwareTrainerTest.CLASSES;
import static io.github.agnosticsam.engine.djl.SharpnessAwareTrainerTest.IN;
import static io.github.agnosticsam.engine.djl.SharpnessAwareTrainerTest.batch;
import static io.github.agnosticsam.engine.djl.SharpnessAwareTrainerTest.bnBlock;
import static io.github.agnosticsam.engine.djl.SharpnessAwareTrainerTest.features;
import static io.github.agnosticsam.engine.djl.SharpnessAwareTrainerTest.labels;
import static io.github.agnosticsam.engine.djl.SharpnessAwareTrainerTest.trainer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.listener.TrainingListenerAdapter;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.optim.Adam;
import io.github.agnosticsam.optim.AgnosticSam;
import io.github.agnosticsam.optim.Optimizer;
import io.github.agnosticsam.optim.Sam;
import io.github.agnosticsam.optim.Schedule;
import io.github.agnosticsam.optim.Sgd;
import io.github.agnosticsam.training.Checkpoint;
import io.github.agnosticsam.training.CheckpointException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Checkpoints of a DJL Trainer's sharpness-aware run: the Model's arrays, our optimizer state, resumed bit for bit. */
class SharpnessAwareTrainerCheckpointTest {
    /** Momentum, and a schedule that depends on the step index. */
    private static final Optimizer SAM_MOMENTUM = Sam.builder()
            .base(Sgd.builder().lr(Schedule.cosine(0.1, 20)).momentum(0.9).weightDecay(1e-3).build()).rho(0.1).build();
    /** Adam's moments, and its bias correction that depends on the applied steps. */
    private static final Optimizer AGNOSTIC_ADAM = AgnosticSam.builder().base(Adam.builder().lr(0.01).build())
            .rho1(0.2).rho2(0.1).variant(AgnosticSam.Variant.EXACT).build();

    @TempDir
    Path dir;

    static Stream<Arguments> optimizers() {
        return Stream.of(Arguments.of("SAM, SGD with momentum", SAM_MOMENTUM, false),
                Arguments.of("Agnostic-SAM EXACT, Adam", AGNOSTIC_ADAM, true));
    }

    /**
     * N steps, checkpoint to a file, N more: a fresh Model (its own initial values) restored from
     * the file and stepped N times ends bit-identical to the run that never stopped, in the Model's
     * parameter arrays, BatchNorm's running statistics and the optimizer state.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("optimizers")
    void aRestoredRunContinuesBitForBit(String name, Optimizer optimizer, boolean validation) {
        int n = 3;
        SplittableRandom random = new SplittableRandom(21);
        float[][] xs = new float[4 * n][];
        float[][] ys = new float[4 * n][];
        for (int s = 0; s < 2 * n; s++) {
            xs[2 * s] = features(random, 16);
            ys[2 * s] = labels(random, 16);
            xs[2 * s + 1] = features(random, 4);
            ys[2 * s + 1] = labels(random, 4);
        }
        Path file = dir.resolve("run.safetensors");
        List<HostTensor> uninterrupted;
        List<HostTensor> uninterruptedStatistics;
        List<HostTensor> uninterruptedState;
        try (Model model = Model.newInstance("a")) {
            model.setBlock(bnBlock());
            try (Trainer t = trainer(model); SharpnessAwareTrainer sam = SharpnessAwareTrainer.of(t, optimizer)) {
                for (int s = 0; s < 2 * n; s++) {
                    if (s == n) {
                        sam.checkpoint().write(file); // taking it must not disturb the run
                    }
                    step(sam, t, xs, ys, s, validation);
                }
                uninterrupted = arrays(model.getBlock(), true);
                uninterruptedStatistics = arrays(model.getBlock(), false);
                uninterruptedState = sam.checkpoint().optimizerState();
            }
        }
        try (Model model = Model.newInstance("b")) {
            model.setBlock(bnBlock());
            try (Trainer t = trainer(model); SharpnessAwareTrainer sam = SharpnessAwareTrainer.of(t, optimizer)) {
                Checkpoint saved = Checkpoint.read(file);
                assertThat(arrays(model.getBlock(), true).get(1)).as("a fresh Model starts elsewhere")
                        .isNotEqualTo(saved.parameters().get(1));
                sam.restore(saved);
                assertThat(arrays(model.getBlock(), true)).as("the Model's own arrays hold the checkpoint")
                        .isEqualTo(saved.parameters());
                assertThat(arrays(model.getBlock(), false)).isEqualTo(saved.runningStatistics());
                assertThat(sam.steps()).isEqualTo(n);
                for (int s = n; s < 2 * n; s++) {
                    step(sam, t, xs, ys, s, validation);
                }
                assertThat(arrays(model.getBlock(), true)).isEqualTo(uninterrupted);
                assertThat(arrays(model.getBlock(), false)).isEqualTo(uninterruptedStatistics);
                assertThat(sam.checkpoint().optimizerState()).isEqualTo(uninterruptedState);
                assertThat(sam.steps()).isEqualTo(2 * n);
            }
        }
    }

    @Test
    void aCheckpointOfAnotherOptimizerConfigurationIsRefusedAndChangesNothing() {
        Optimizer other = Sam.builder().base(Sgd.builder().lr(Schedule.cosine(0.1, 20)).momentum(0.5)
                .weightDecay(1e-3).build()).rho(0.1).build();
        SplittableRandom random = new SplittableRandom(5);
        float[][] xs = {features(random, 16), null};
        float[][] ys = {labels(random, 16), null};
        Checkpoint written;
        try (Model model = Model.newInstance("a")) {
            model.setBlock(bnBlock());
            try (Trainer t = trainer(model); SharpnessAwareTrainer sam = SharpnessAwareTrainer.of(t, SAM_MOMENTUM)) {
                step(sam, t, xs, ys, 0, false);
                step(sam, t, xs, ys, 0, false);
                written = sam.checkpoint();
            }
        }
        try (Model model = Model.newInstance("b")) {
            model.setBlock(bnBlock());
            try (Trainer t = trainer(model); SharpnessAwareTrainer sam = SharpnessAwareTrainer.of(t, other)) {
                step(sam, t, xs, ys, 0, false);
                List<HostTensor> parameters = arrays(model.getBlock(), true);
                List<HostTensor> statistics = arrays(model.getBlock(), false);
                List<HostTensor> state = sam.checkpoint().optimizerState();
                assertThatThrownBy(() -> sam.restore(written)).isInstanceOf(CheckpointException.class)
                        .hasMessageContaining("another optimizer configuration").hasMessageContaining("momentum");
                assertThat(arrays(model.getBlock(), true)).isEqualTo(parameters);
                assertThat(arrays(model.getBlock(), false)).isEqualTo(statistics);
                assertThat(sam.checkpoint().optimizerState()).isEqualTo(state);
                assertThat(sam.steps()).isEqualTo(1);
                // An epoch entry that is no number is refused before anything is set, too.
                Checkpoint odd = sam.checkpoint(Map.of(CheckpointListener.EPOCH, "last"));
                step(sam, t, xs, ys, 0, false);
                List<HostTensor> afterStep = arrays(model.getBlock(), true);
                assertThatThrownBy(() -> sam.restore(odd)).isInstanceOf(CheckpointException.class)
                        .hasMessage("the checkpoint's 'epoch' entry is 'last', expected a whole number >= 0");
                assertThat(arrays(model.getBlock(), true)).isEqualTo(afterStep);
                assertThat(sam.steps()).isEqualTo(2);
            }
        }
    }

    /**
     * DJL's fit loop with the listener: a file after each epoch, each restores the Model as it was
     * at that epoch's end; and with DJL's random state and the validation sampler seeded per epoch,
     * a run resumed from epoch 1 ends where the uninterrupted one did, numbering its file epoch 2.
     */
    @Test
    void theListenerWritesAResumableCheckpointAfterEachEpoch() throws Exception {
        int n = 64;
        SplittableRandom random = new SplittableRandom(13);
        float[] x = features(random, n);
        float[] y = labels(random, n);
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        List<List<HostTensor>> atEpochEnd = new ArrayList<>();
        TrainingListenerAdapter recorder = new TrainingListenerAdapter() {
            @Override
            public void onEpoch(Trainer trainer) {
                atEpochEnd.add(arrays(trainer.getModel().getBlock(), true));
            }
        };
        try (NDManager data = NDManager.newBaseManager()) {
            ArrayDataset set = new ArrayDataset.Builder().setData(data.create(x, new Shape(n, IN)))
                    .optLabels(data.create(y, new Shape(n))).setSampling(16, true).build();
            List<HostTensor> finalParameters;
            CheckpointListener listener = new CheckpointListener(a);
            try (Model model = Model.newInstance("a")) {
                model.setBlock(bnBlock());
                try (Trainer t = trainer(model, listener, recorder);
                        SharpnessAwareTrainer sam = SharpnessAwareTrainer.of(t, AGNOSTIC_ADAM)) {
                    epoch(sam, set, 1);
                    epoch(sam, set, 2);
                    finalParameters = arrays(model.getBlock(), true);
                }
            }
            assertThat(files(a)).containsExactly("epoch-1.safetensors", "epoch-2.safetensors");
            assertThat(listener.file(2)).isEqualTo(a.resolve("epoch-2.safetensors"));
            assertThat(atEpochEnd.get(1)).isEqualTo(finalParameters).isNotEqualTo(atEpochEnd.get(0));

            try (Model model = Model.newInstance("b")) {
                model.setBlock(bnBlock());
                try (Trainer t = trainer(model, new CheckpointListener(b));
                        SharpnessAwareTrainer sam = SharpnessAwareTrainer.of(t, AGNOSTIC_ADAM)) {
                    Checkpoint first = Checkpoint.read(a.resolve("epoch-1.safetensors"));
                    assertThat(first.extra()).containsEntry(CheckpointListener.EPOCH, "1");
                    sam.restore(first);
                    assertThat(arrays(model.getBlock(), true)).isEqualTo(atEpochEnd.get(0));
                    assertThat(sam.steps()).isEqualTo(4);
                    epoch(sam, set, 2);
                    assertThat(arrays(model.getBlock(), true)).isEqualTo(finalParameters);
                }
            }
            assertThat(files(b)).as("numbered after the restored epoch").containsExactly("epoch-2.safetensors");
            Checkpoint resumed = Checkpoint.read(b.resolve("epoch-2.safetensors"));
            Checkpoint second = Checkpoint.read(a.resolve("epoch-2.safetensors"));
            assertThat(resumed.parameters()).isEqualTo(second.parameters());
            assertThat(resumed.runningStatistics()).isEqualTo(second.runningStatistics());
            assertThat(resumed.optimizerState()).isEqualTo(second.optimizerState());

            try (Model model = Model.newInstance("c")) {
                model.setBlock(bnBlock());
                try (Trainer t = trainer(model); SharpnessAwareTrainer sam = SharpnessAwareTrainer.of(t, AGNOSTIC_ADAM)) {
                    sam.restore(second);
                    assertThat(arrays(model.getBlock(), true)).isEqualTo(finalParameters);
                    assertThat(sam.steps()).isEqualTo(8);
                }
            }
        }
    }

    @Test
    void anEpochEndWithoutAnOpenSharpnessAwareTrainerIsAClearError() {
        Path folder = dir.resolve("none");
        try (Model model = Model.newInstance("m")) {
            model.setBlock(bnBlock());
            try (Trainer t = trainer(model, new CheckpointListener(folder))) {
                SharpnessAwareTrainer.of(t, SAM_MOMENTUM).close();
                assertThatThrownBy(() -> t.notifyListeners(l -> l.onEpoch(t)))
                        .isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("no open SharpnessAwareTrainer steps this trainer");
            }
        }
        assertThat(folder).doesNotExist();
        assertThatThrownBy(() -> new CheckpointListener(folder, 0)).hasMessage("everyEpochs must be >= 1, got 0");
    }

    /** One epoch of fit, with DJL's random state (the shuffle) and the validation sampler seeded by the epoch. */
    private static void epoch(SharpnessAwareTrainer sam, ArrayDataset set, int epoch) throws Exception {
        Engine.getInstance().setRandomSeed(100 + epoch);
        sam.fit(1, set, null, ValidationSampler.uniform(set, 200 + epoch));
    }

    private static void step(SharpnessAwareTrainer sam, Trainer t, float[][] xs, float[][] ys, int s,
            boolean validation) {
        try (NDManager m = t.getManager().newSubManager()) {
            if (validation) {
                sam.trainBatch(batch(m, xs[2 * s], ys[2 * s]), batch(m, xs[2 * s + 1], ys[2 * s + 1]));
            } else {
                sam.trainBatch(batch(m, xs[2 * s], ys[2 * s]));
            }
        }
    }

    /** The Model's own trainable parameters (or running statistics), as the block holds them. */
    private static List<HostTensor> arrays(Block block, boolean trainable) {
        List<HostTensor> out = new ArrayList<>();
        for (Parameter p : block.getParameters().values()) {
            if (trainable ? p.requiresGradient() : DjlNetwork.isStatistic(p)) {
                out.add(DjlNetwork.toHost(p.getArray()));
            }
        }
        return out;
    }

    private static List<String> files(Path folder) throws Exception {
        try (Stream<Path> list = Files.list(folder)) {
            return list.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
