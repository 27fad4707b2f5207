package io.github.agnosticsam.engine.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import ai.djl.training.evaluator.Accuracy;
import ai.djl.training.listener.TrainingListener;
import ai.djl.training.listener.TrainingListenerAdapter;
import ai.djl.training.loss.Loss;
import io.github.agnosticsam.conformance.HeldStep;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.AgnosticSam;
import io.github.agnosticsam.optim.Optimizer;
import io.github.agnosticsam.optim.Sam;
import io.github.agnosticsam.optim.Sgd;
import io.github.agnosticsam.spi.EngineOptions;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.training.DataParallelTraining;
import io.github.agnosticsam.training.StepResult;
import io.github.agnosticsam.training.Training;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SharpnessAwareTrainerTest {
    static final int IN = 12;
    static final int CLASSES = 4;

    private static final Optimizer AGNOSTIC = AgnosticSam.builder()
            .base(Sgd.builder().lr(0.1).momentum(0.9).weightDecay(1e-3).build()).rho1(0.2).rho2(0.1).build();

    /** One array per parameter, the layout of a trainer's block (flat storage sums norms in another order). */
    private static final EngineOptions TENSORS = new EngineOptions(io.github.agnosticsam.spi.Device.AUTO, 0,
            java.util.Map.of(DjlEngine.STORAGE, "tensors"));

    static float[] features(SplittableRandom random, int n) {
        float[] x = new float[n * IN];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextDouble(-1, 1);
        }
        return x;
    }

    static float[] labels(SplittableRandom random, int n) {
        float[] y = new float[n];
        for (int i = 0; i < n; i++) {
            y[i] = random.nextInt(CLASSES);
        }
        return y;
    }

    static Batch batch(NDManager m, float[] x, float[] y) {
        int n = y.length;
        return new Batch(m, new NDList(m.create(x, new Shape(n, IN))), new NDList(m.create(y, new Shape(n))), n,
                null, null, 0, 0);
    }

    static Trainer trainer(Model model, TrainingListener... listeners) {
        Trainer t = model.newTrainer(new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                .addEvaluator(new Accuracy()).addTrainingListeners(TrainingListener.Defaults.basic())
                .addTrainingListeners(listeners));
        t.initialize(new Shape(1, IN));
        return t;
    }

    @Test
    void aSecondThreadInTrainBatchFailsFast() throws Exception {
        HeldStep held = new HeldStep();
        Optimizer blocking = Sgd.builder().lr(held.lr(0.1)).build();
        SequentialBlock block = new SequentialBlock().add(Linear.builder().setUnits(CLASSES).build());
        SplittableRandom random = new SplittableRandom(3);
        float[] x = features(random, 8);
        float[] y = labels(random, 8);
        try (Model model = Model.newInstance("mlp")) {
            model.setBlock(block);
            try (Trainer t = trainer(model); SharpnessAwareTrainer sam = SharpnessAwareTrainer.of(t, blocking)) {
                try (NDManager m = t.getManager().newSubManager()) {
                    sam.trainBatch(batch(m, x, y));
                }
                HeldStep.Race<StepResult> race = held.race(() -> {
                    try (NDManager m = t.getManager().newSubManager()) {
                        return sam.trainBatch(batch(m, x, y));
                    }
                }, () -> {
                    try (NDManager m = t.getManager().newSubManager()) {
                        sam.trainBatch(batch(m, x, y));
                    }
                });
                assertThat(race.secondThrew()).isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("SharpnessAwareTrainer.trainBatch called from two threads at once");
                assertThat(race.first().applied()).as("the step that was running").isTrue();
                assertThat(sam.steps()).as("the refused call is no step").isEqualTo(2);
            }
        }
    }

    /** Three steps' batches: train batches of 16 at even places, validation batches of 4 after each. */
    private static void threeSteps(SplittableRandom random, float[][] xs, float[][] ys) {
        for (int s = 0; s < 6; s++) {
            xs[s] = features(random, s % 2 == 0 ? 16 : 4);
            ys[s] = labels(random, s % 2 == 0 ? 16 : 4);
        }
    }

    @Test
    void aTrainerStepIsTheSameStepAsTheEngineNetworks() {
        ModelSpec.Mlp spec = new ModelSpec.Mlp(new int[] {IN, 16, CLASSES}, io.github.agnosticsam.model.Activation.TANH, 0);
        List<HostTensor> init = spec.initialParameters(4);
        SplittableRandom random = new SplittableRandom(9);
        float[][] xs = new float[6][];
        float[][] ys = new float[6][];
        threeSteps(random, xs, ys);
        List<HostTensor> viaNetwork;
        // Bit for bit against the same layout: the trainer's block keeps one array per parameter (flat
        // storage sums the norm in another order, which moves the last bits).
        try (DjlEngine engine = DjlEngine.create(TENSORS); Network net = engine.build(spec, init);
                Training t = Training.start(net, AGNOSTIC)) {
            for (int s = 0; s < 6; s += 2) {
                t.step(hostBatch(xs[s], ys[s]), hostBatch(xs[s + 1], ys[s + 1]));
            }
            viaNetwork = net.parameters();
        }
        SequentialBlock block = new SequentialBlock().add(Linear.builder().setUnits(16).build())
                .add(Activation.tanhBlock()).add(Linear.builder().setUnits(CLASSES).build());
        try (Model model = Model.newInstance("mlp")) {
            model.setBlock(block);
            try (Trainer trainer = trainer(model); SharpnessAwareTrainer sam = SharpnessAwareTrainer.of(trainer, AGNOSTIC)) {
                List<Parameter> params = block.getParameters().values();
                for (int i = 0; i < params.size(); i++) {
                    params.get(i).getArray().set(DjlNetwork.toFloats(init.get(i).values()));
                }
                NDManager m = trainer.getManager();
                for (int s = 0; s < 6; s += 2) {
                    try (NDManager step = m.newSubManager()) {
                        StepResult r = sam.trainBatch(batch(step, xs[s], ys[s]), batch(step, xs[s + 1], ys[s + 1]));
                        assertThat(r.gradientEvaluations()).isEqualTo(4);
                        assertThat(r.applied()).isTrue();
                    }
                }
                for (int i = 0; i < params.size(); i++) {
                    assertThat(DjlNetwork.toHost(params.get(i).getArray())).isEqualTo(viaNetwork.get(i));
                }
                assertThat(sam.steps()).isEqualTo(3);
            }
        }
    }

    /**
     * A Trainer on two devices steps data-parallel. DJL makes no Trainer on one device twice, and this
     * machine has no GPU: the Trainer here reports the CPU twice (replicas share it, as they would on
     * a machine without GPUs), all else DJL's own. Its steps are bit for bit those of a
     * DataParallelTraining of two engine networks, its block holds replica 0's parameters, its
     * checkpoint records 2 replicas, its parameters still take gradients, the listeners see a
     * device's shard, and a batch the devices cannot share equally is refused by name.
     */
    @Test
    void aTrainerOnTwoDevicesStepsDataParallelAsDataParallelTraining() {
        ModelSpec.Mlp spec = new ModelSpec.Mlp(new int[] {IN, 16, CLASSES}, io.github.agnosticsam.model.Activation.TANH, 0);
        List<HostTensor> init = spec.initialParameters(5);
        SplittableRandom random = new SplittableRandom(10);
        float[][] xs = new float[6][];
        float[][] ys = new float[6][];
        threeSteps(random, xs, ys);
        List<HostTensor> viaNetworks;
        try (DjlEngine engine = DjlEngine.create(TENSORS); Network a = engine.build(spec, init);
                Network b = engine.build(spec, init);
                DataParallelTraining t = DataParallelTraining.start(List.of(a, b), AGNOSTIC,
                        io.github.agnosticsam.training.BadValuePolicy.THROW)) {
            for (int s = 0; s < 6; s += 2) {
                t.step(hostBatch(xs[s], ys[s]), hostBatch(xs[s + 1], ys[s + 1]));
            }
            viaNetworks = a.parameters();
        }
        SequentialBlock block = new SequentialBlock().add(Linear.builder().setUnits(16).build())
                .add(Activation.tanhBlock()).add(Linear.builder().setUnits(CLASSES).build());
        List<Integer> shardsSeen = new ArrayList<>();
        TrainingListener counting = new TrainingListenerAdapter() {
            @Override
            public void onTrainingBatch(Trainer trainer, BatchData batchData) {
                // Keyed by device: the CPU twice is one key here (on two GPUs, one entry each).
                batchData.getPredictions().values().forEach(p -> shardsSeen.add((int) p.singletonOrThrow().getShape().get(0)));
            }
        };
        try (Model model = Model.newInstance("mlp")) {
            model.setBlock(block);
            try (Trainer trainer = new Trainer(model, new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                    .addTrainingListeners(counting)) {
                @Override
                public Device[] getDevices() {
                    return new Device[] {Device.cpu(), Device.cpu()};
                }
            }) {
                trainer.initialize(new Shape(1, IN));
                List<Parameter> params = block.getParameters().values();
                for (int i = 0; i < params.size(); i++) {
                    params.get(i).getArray().set(DjlNetwork.toFloats(init.get(i).values()));
                }
                try (SharpnessAwareTrainer sam = SharpnessAwareTrainer.of(trainer, AGNOSTIC)) {
                    NDManager m = trainer.getManager();
                    for (int s = 0; s < 6; s += 2) {
                        try (NDManager step = m.newSubManager()) {
                            StepResult r = sam.trainBatch(batch(step, xs[s], ys[s]), batch(step, xs[s + 1], ys[s + 1]));
                            assertThat(r.applied()).isTrue();
                        }
                    }
                    for (int i = 0; i < params.size(); i++) {
                        assertThat(DjlNetwork.toHost(params.get(i).getArray())).as("parameter %d", i)
                                .isEqualTo(viaNetworks.get(i));
                        assertThat(ai.djl.pytorch.jni.JniUtils.requiresGrad((ai.djl.pytorch.engine.PtNDArray) params.get(i).getArray()))
                                .as("parameter %d still takes gradients "
                                + "in DJL's own training (libtorch's grad mode off in the replicas' threads)", i)
                                .isTrue();
                    }
                    assertThat(sam.checkpoint().replicas()).isEqualTo(2);
                    assertThat(shardsSeen).as("per step, a device's predictions of its shard of 8").containsExactly(8, 8, 8);
                    try (NDManager step = m.newSubManager()) {
                        assertThatThrownBy(() -> sam.trainBatch(batch(step, xs[0], ys[0]), batch(step,
                                features(random, 3), labels(random, 3)))).hasMessageContaining("validation batch of 3 "
                                        + "examples cannot be split into 2 equal shards, one per device");
                    }
                }
            }
        }
    }

    /** Only the clean pass on the train batch moves BatchNorm's running mean and variance. */
    @Test
    void runningStatisticsMoveOnlyInTheCleanTrainPass() {
        SplittableRandom random = new SplittableRandom(3);
        float[] x = features(random, 16);
        float[] y = labels(random, 16);
        float[] vx = features(random, 4);
        float[] vy = labels(random, 4);
        for (int i = 0; i < vx.length; i++) {
            vx[i] += 3; // a validation batch whose statistics differ a lot
        }
        try (Model withSam = Model.newInstance("bn"); Model plain = Model.newInstance("bn2")) {
            withSam.setBlock(bnBlock());
            plain.setBlock(bnBlock());
            Optimizer frozen = AgnosticSam.builder().base(Sgd.builder().lr(0).build()).rho1(0.5).rho2(0.3).build();
            try (Trainer a = trainer(withSam); Trainer b = trainer(plain);
                    SharpnessAwareTrainer sam = SharpnessAwareTrainer.of(a, frozen)) {
                copyParameters(withSam.getBlock(), plain.getBlock());
                List<float[]> before = statistics(plain.getBlock());
                try (NDManager m = a.getManager().newSubManager()) {
                    sam.trainBatch(batch(m, x, y), batch(m, vx, vy));
                }
                // What one clean training-mode forward on the train batch does to the statistics.
                try (NDManager m = b.getManager().newSubManager()) {
                    plain.getBlock().forward(new ParameterStore(m, false), new NDList(m.create(x, new Shape(16, IN))), true);
                }
                List<float[]> expected = statistics(plain.getBlock());
                List<float[]> actual = statistics(withSam.getBlock());
                assertThat(expected.get(0)).as("the clean pass moves the running mean").isNotEqualTo(before.get(0));
                for (int i = 0; i < expected.size(); i++) {
                    assertThat(actual.get(i)).containsExactly(expected.get(i), org.assertj.core.data.Offset.offset(1e-7f));
                }
                // A step that meets a NaN leaves the statistics as they were, like everything else.
                float[] poisoned = x.clone();
                poisoned[5] = Float.NaN;
                try (NDManager m = a.getManager().newSubManager()) {
                    org.assertj.core.api.Assertions.assertThatThrownBy(
                            () -> sam.trainBatch(batch(m, poisoned, y), batch(m, vx, vy)))
                            .isInstanceOf(io.github.agnosticsam.training.NonFiniteStepException.class);
                }
                List<float[]> afterNan = statistics(withSam.getBlock());
                for (int i = 0; i < actual.size(); i++) {
                    assertThat(afterNan.get(i)).containsExactly(actual.get(i));
                }
            }
        }
    }

    @Test
    void fitDrawsQuarterSizeValidationBatchesAndFeedsDjlListenersAndMetrics() throws Exception {
        SplittableRandom random = new SplittableRandom(11);
        int n = 256;
        float[] x = features(random, n);
        float[] y = new float[n];
        for (int i = 0; i < n; i++) {
            y[i] = x[i * IN] > 0 ? (x[i * IN + 1] > 0 ? 0 : 1) : (x[i * IN + 1] > 0 ? 2 : 3); // learnable
        }
        AtomicInteger batches = new AtomicInteger();
        AtomicInteger epochs = new AtomicInteger();
        TrainingListener counter = new TrainingListenerAdapter() {
            @Override
            public void onTrainingBatch(Trainer trainer, BatchData batchData) {
                assertThat(batchData.getPredictions().values().iterator().next().singletonOrThrow().getShape())
                        .isEqualTo(new Shape(32, CLASSES));
                batches.incrementAndGet();
            }

            @Override
            public void onEpoch(Trainer trainer) {
                epochs.incrementAndGet();
            }
        };
        try (Model model = Model.newInstance("fit")) {
            model.setBlock(new SequentialBlock().add(Linear.builder().setUnits(32).build()).add(Activation.reluBlock())
                    .add(Linear.builder().setUnits(CLASSES).build()));
            try (Trainer trainer = trainer(model, counter); NDManager data = trainer.getManager().newSubManager()) {
                ArrayDataset set = new ArrayDataset.Builder().setData(data.create(x, new Shape(n, IN)))
                        .optLabels(data.create(y, new Shape(n))).setSampling(32, true).build();
                List<Integer> sizes = new ArrayList<>();
                ValidationSampler uniform = ValidationSampler.uniform(set, 1);
                ValidationSampler recording = (m, trainSize) -> {
                    Batch v = uniform.sample(m, trainSize);
                    sizes.add(v.getSize());
                    return v;
                };
                Optimizer opt = AgnosticSam.builder().base(Sgd.builder().lr(0.2).momentum(0.9).build())
                        .variant(AgnosticSam.Variant.FAST).build();
                try (SharpnessAwareTrainer sam = SharpnessAwareTrainer.of(trainer, opt)) {
                    sam.fit(6, set, set, recording);
                    assertThat(sam.steps()).isEqualTo(6 * 8);
                }
                assertThat(sizes).hasSize(48).containsOnly(8);
                assertThat(batches.get()).isEqualTo(48);
                assertThat(epochs.get()).isEqualTo(6);
                // DJL's own evaluator listeners saw the train batches (accuracy of the clean pass) and the
                // evaluation of the validation set.
                assertThat(trainer.getTrainingResult().getTrainEvaluation("Accuracy")).isGreaterThan(0.5f);
                assertThat(trainer.getTrainingResult().getValidateEvaluation("Accuracy"))
                        .as("validation accuracy after 6 epochs").isGreaterThan(0.6f);
            }
        }
    }

    @Test
    void refusesWhatItCannotDoWithAClearMessage() {
        try (Model model = Model.newInstance("m")) {
            model.setBlock(new SequentialBlock().add(Linear.builder().setUnits(CLASSES).build()));
            try (Trainer t = trainer(model); SharpnessAwareTrainer sam = SharpnessAwareTrainer.of(t,
                    Sam.builder().base(Sgd.builder().lr(0.1).build()).build());
                    NDManager m = t.getManager().newSubManager()) {
                Batch b = batch(m, features(new SplittableRandom(1), 4), labels(new SplittableRandom(1), 4));
                assertThatThrownBy(() -> sam.trainBatch(b, b)).hasMessageContaining("takes no validation batch");
                try (SharpnessAwareTrainer agnostic = SharpnessAwareTrainer.of(t, AGNOSTIC)) {
                    assertThatThrownBy(() -> agnostic.trainBatch(b)).hasMessageContaining("needs a validation batch");
                    assertThatThrownBy(() -> agnostic.fit(1, null, null, null)).hasMessageContaining("ValidationSampler");
                }
            }
        }
    }

    private static io.github.agnosticsam.model.Batch hostBatch(float[] x, float[] y) {
        double[] xd = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            xd[i] = x[i];
        }
        int[] yi = new int[y.length];
        for (int i = 0; i < y.length; i++) {
            yi[i] = (int) y[i];
        }
        return new io.github.agnosticsam.model.Batch(HostTensor.of(xd, y.length, IN), yi);
    }

    static Block bnBlock() {
        return new SequentialBlock().add(BatchNorm.builder().build()).add(Linear.builder().setUnits(8).build())
                .add(BatchNorm.builder().build()).add(Activation.reluBlock()).add(Linear.builder().setUnits(CLASSES).build());
    }

    private static void copyParameters(Block from, Block to) {
        List<Parameter> a = from.getParameters().values();
        List<Parameter> b = to.getParameters().values();
        for (int i = 0; i < a.size(); i++) {
            b.get(i).getArray().set(a.get(i).getArray().toFloatArray());
        }
    }

    private static List<float[]> statistics(Block block) {
        List<float[]> out = new ArrayList<>();
        for (Parameter p : block.getParameters().values()) {
            if (p.getType() == Parameter.Type.RUNNING_MEAN || p.getType() == Parameter.Type.RUNNING_VAR) {
                NDArray a = p.getArray();
                out.add(a.toFloatArray());
            }
        }
        return out;
    }
}
