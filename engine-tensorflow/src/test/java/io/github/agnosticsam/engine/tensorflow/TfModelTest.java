package io.github.agnosticsam.engine.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.agnosticsam.conformance.SyntheticBatches;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.AgnosticSam;
import io.github.agnosticsam.optim.Sgd;
import io.github.agnosticsam.spi.Device;
import io.github.agnosticsam.spi.EngineOptions;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.training.Training;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.linalg.MatMul;
import org.tensorflow.types.TFloat32;

/** A model written with Ops, with batch normalisation, on the TensorFlow engine. */
class TfModelTest {
    private static final int IN = 6;
    private static final int CLASSES = 4;

    /** Batch norm on the raw inputs, then a dense layer. */
    private static final TfModel MODEL = new TfModel() {
        @Override
        public ModelSpec.Custom description() {
            return new ModelSpec.Custom("bn-dense", new int[] {IN}, CLASSES,
                    List.of(new int[] {IN}, new int[] {IN}, new int[] {CLASSES, IN}, new int[] {CLASSES}),
                    List.of("gamma", "beta", "W", "b"), List.of(1, 1, IN, IN), 0);
        }

        @Override
        public Operand<TFloat32> logits(Ops tf, List<Operand<TFloat32>> p, Operand<TFloat32> x, TfLayers layers) {
            Operand<TFloat32> h = layers.batchNorm(x, p.get(0), p.get(1));
            return tf.math.add(tf.linalg.matMul(h, p.get(2), MatMul.transposeB(true)), p.get(3));
        }
    };

    private static List<HostTensor> init() {
        List<HostTensor> p = new ArrayList<>(MODEL.description().initialParameters(1));
        double[] ones = new double[IN];
        java.util.Arrays.fill(ones, 1);
        p.set(0, HostTensor.of(ones, IN));
        p.set(1, HostTensor.zeros(IN));
        return p;
    }

    @Test
    void runningStatisticsMoveOnlyInTheCleanTrainPass() {
        ModelSpec spec = MODEL.description();
        SplittableRandom random = new SplittableRandom(5);
        Batch train = SyntheticBatches.learnable(spec, 16, random);
        Batch validation = SyntheticBatches.learnable(spec, 4, random);
        double[] shifted = validation.features().values().clone();
        for (int i = 0; i < shifted.length; i++) {
            shifted[i] += 3; // statistics far from the train batch's
        }
        validation = new Batch(new HostTensor(validation.features().shape(), shifted), validation.labels());
        AgnosticSam frozen = AgnosticSam.builder().base(Sgd.builder().lr(0).build()).rho1(0.5).rho2(0.3).build();
        try (TfEngine engine = TfEngine.create(EngineOptions.DEFAULT.withDevice(Device.CPU));
                TfNetwork net = (TfNetwork) engine.build(MODEL, init());
                Training t = Training.start(net, frozen)) {
            assertThat(t.step(train, validation).gradientEvaluations()).isEqualTo(4);
            List<HostTensor> stats = net.runningStatistics();
            double[] x = train.features().values();
            for (int f = 0; f < IN; f++) {
                double mean = 0;
                for (int i = 0; i < 16; i++) {
                    mean += x[i * IN + f] / 16;
                }
                double var = 0;
                for (int i = 0; i < 16; i++) {
                    var += (x[i * IN + f] - mean) * (x[i * IN + f] - mean) / 15;
                }
                assertThat(stats.get(0).values()[f]).as("running mean %d", f).isCloseTo(0.1 * mean, within(1e-6));
                assertThat(stats.get(1).values()[f]).as("running variance %d", f).isCloseTo(0.9 + 0.1 * var, within(1e-6));
            }
        }
    }

    /**
     * A custom model's description names no running statistics, so its batch-norm statistics cannot
     * be set from a checkpoint: that is said, not done silently.
     */
    @Test
    void runningStatisticsTheDescriptionDoesNotNameCannotBeSet() {
        try (TfEngine engine = TfEngine.create(EngineOptions.DEFAULT.withDevice(Device.CPU));
                Network net = engine.build(MODEL, init())) {
            List<HostTensor> before = net.runningStatistics();
            assertThatThrownBy(() -> net.setRunningStatistics(List.of()))
                    .isInstanceOf(io.github.agnosticsam.spi.UnsupportedFeatureException.class)
                    .hasMessageContaining("has 2 running statistics").hasMessageContaining("names 0");
            assertThat(net.runningStatistics()).isEqualTo(before);
        }
    }

    /** One tensor in flat storage is the vector reshaped: SplitV's gradient (a concatenation) needs two pieces. */
    @Test
    void aModelOfOneTensorTrains() {
        TfModel linear = new TfModel() {
            @Override
            public ModelSpec.Custom description() {
                return new ModelSpec.Custom("linear", new int[] {IN}, CLASSES, List.of(new int[] {CLASSES, IN}),
                        List.of("W"), List.of(IN), 0);
            }

            @Override
            public Operand<TFloat32> logits(Ops tf, List<Operand<TFloat32>> p, Operand<TFloat32> x, TfLayers layers) {
                return tf.linalg.matMul(x, p.get(0), MatMul.transposeB(true));
            }
        };
        ModelSpec spec = linear.description();
        SplittableRandom random = new SplittableRandom(7);
        Batch batch = SyntheticBatches.learnable(spec, 32, random);
        AgnosticSam opt = AgnosticSam.builder().base(Sgd.builder().lr(0.1).momentum(0.9).build()).build();
        try (TfEngine engine = TfEngine.create(EngineOptions.DEFAULT.withDevice(Device.CPU));
                Network net = engine.build(linear, spec.initialParameters(1)); Training t = Training.start(net, opt)) {
            double first = t.step(batch, SyntheticBatches.learnable(spec, 8, random)).loss();
            for (int s = 0; s < 20; s++) {
                t.step(batch, SyntheticBatches.learnable(spec, 8, random));
            }
            assertThat(net.evaluate(batch).loss()).isLessThan(first);
        }
    }

    @Test
    void trainsAndEvaluatesWithRunningStatistics() {
        ModelSpec spec = MODEL.description();
        SplittableRandom random = new SplittableRandom(6);
        Batch test = SyntheticBatches.learnable(spec, 200, random);
        AgnosticSam opt = AgnosticSam.builder().base(Sgd.builder().lr(0.1).momentum(0.9).build()).build();
        try (TfEngine engine = TfEngine.create(EngineOptions.DEFAULT.withDevice(Device.CPU));
                Network net = engine.build(MODEL, init()); Training t = Training.start(net, opt)) {
            double before = net.evaluate(test).accuracy();
            for (int s = 0; s < 150; s++) {
                t.step(SyntheticBatches.learnable(spec, 32, random), SyntheticBatches.learnable(spec, 8, random));
            }
            assertThat(net.evaluate(test).accuracy()).isGreaterThan(Math.max(0.8, before));
        }
    }
}
