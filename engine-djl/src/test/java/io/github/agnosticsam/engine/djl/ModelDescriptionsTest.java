package io.github.agnosticsam.engine.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.agnosticsam.Activation;
import io.github.agnosticsam.Adam;
import io.github.agnosticsam.AgnosticSam;
import io.github.agnosticsam.BadValuePolicy;
import io.github.agnosticsam.Batch;
import io.github.agnosticsam.Device;
import io.github.agnosticsam.Engine;
import io.github.agnosticsam.EngineOptions;
import io.github.agnosticsam.Engines;
import io.github.agnosticsam.HostTensor;
import io.github.agnosticsam.ModelSpec;
import io.github.agnosticsam.Network;
import io.github.agnosticsam.NonFiniteStepException;
import io.github.agnosticsam.Optimizer;
import io.github.agnosticsam.Sgd;
import io.github.agnosticsam.Training;
import io.github.agnosticsam.conformance.SyntheticBatches;
import io.github.agnosticsam.spi.CompiledStep;
import io.github.agnosticsam.spi.StepProgram;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/** The BatchNorm mlp and the parameterised cnn of the model descriptions, and the network lifecycle. */
class ModelDescriptionsTest {
    private static final String ENGINE = "djl";
    /** Two BatchNorm layers, so that the order of parameters and statistics is tested too. */
    private static final ModelSpec.Mlp BN_MLP = new ModelSpec.Mlp(new int[] {12, 16, 8, 3}, Activation.RELU, 0, true);
    /**
     * 16 channels: with fewer output channels, PyTorch 2.7.1's CPU conv2d backward computed wrong (often
     * NaN) input gradients once two threads had run, on the machine these tests were written on.
     */
    private static final ModelSpec.Cnn SMALL_CNN = new ModelSpec.Cnn(8, 16, 16, 3);
    private static final Optimizer AGNOSTIC = AgnosticSam.builder()
            .base(Sgd.builder().lr(0.05).momentum(0.9).build()).rho1(0.1).rho2(0.05).build();

    private static Engine engine() {
        return Engines.load(ENGINE, EngineOptions.DEFAULT.withDevice(Device.CPU));
    }

    private static Batch batch(ModelSpec spec, int n, SplittableRandom random) {
        return SyntheticBatches.learnable(spec, n, random);
    }

    @Test
    void theBatchNormMlpHasTheDescriptionsParametersAndStartsAtTorchsStatistics() {
        List<HostTensor> init = BN_MLP.initialParameters(7);
        try (Engine e = engine(); Network net = e.build(BN_MLP, init)) {
            assertThat(net.model()).isEqualTo(BN_MLP);
            assertStoredAsFloats(net.parameters(), init);
            assertThat(net.runningStatistics()).isEqualTo(BN_MLP.initialStatistics());
        }
    }

    @Test
    void oneCleanStepMovesTheRunningStatisticsAsTorchsBatchNorm1d() {
        Batch train = batch(BN_MLP, 32, new SplittableRandom(3));
        try (Engine e = engine(); Network net = e.build(BN_MLP, BN_MLP.initialParameters(8));
                Training t = Training.start(net, Sgd.builder().lr(0).build())) {
            List<HostTensor> params = net.parameters();
            t.step(train);
            assertThat(net.parameters()).as("lr 0").isEqualTo(params);
            List<double[][]> normInputs = new ArrayList<>();
            HostForward.mlp(BN_MLP, params, null, train, normInputs);
            List<HostTensor> stats = net.runningStatistics();
            assertThat(stats).hasSize(4);
            for (int layer = 0; layer < 2; layer++) {
                double[] mean = HostForward.mean(normInputs.get(layer));
                double[] var = HostForward.variance(normInputs.get(layer), 1);
                for (int j = 0; j < mean.length; j++) {
                    assertThat(stats.get(2 * layer).values()[j]).as("running mean %d of layer %d", j, layer)
                            .isCloseTo(0.9 * 0 + 0.1 * mean[j], within(2e-6));
                    assertThat(stats.get(2 * layer + 1).values()[j]).as("running variance %d of layer %d", j, layer)
                            .isCloseTo(0.9 * 1 + 0.1 * var[j], within(2e-6));
                }
            }
        }
    }

    @Test
    void evaluationUsesTheRunningStatisticsAndLeavesThem() {
        SplittableRandom random = new SplittableRandom(4);
        Batch test = batch(BN_MLP, 50, random);
        try (Engine e = engine(); Network net = e.build(BN_MLP, BN_MLP.initialParameters(9));
                Training t = Training.start(net, AGNOSTIC)) {
            for (int s = 0; s < 3; s++) {
                t.step(batch(BN_MLP, 32, random), batch(BN_MLP, 8, random));
            }
            List<HostTensor> params = net.parameters();
            List<HostTensor> stats = net.runningStatistics();
            double running = HostForward.loss(HostForward.mlp(BN_MLP, params, stats, test, null), test.labels());
            double batchStatistics = HostForward.loss(HostForward.mlp(BN_MLP, params, null, test, null), test.labels());
            assertThat(Math.abs(running - batchStatistics)).as("the two ways differ here").isGreaterThan(1e-3);
            assertThat(net.evaluate(test).loss()).isCloseTo(running, within(1e-5));
            assertThat(net.runningStatistics()).isEqualTo(stats);
        }
    }

    @Test
    void theBatchNormMlpAndASmallCnnLearn() {
        assertLearns(BN_MLP, AGNOSTIC, 30);
        // The small cnn starts on a plateau (small signals through two ReLU convolutions); Adam leaves it quickly.
        assertLearns(SMALL_CNN, AgnosticSam.builder().base(Adam.builder().lr(0.02).build()).rho1(0.1).rho2(0.05).build(),
                40);
    }

    private static void assertLearns(ModelSpec spec, Optimizer optimizer, int steps) {
        SplittableRandom random = new SplittableRandom(5);
        Batch train = batch(spec, 32, random);
        try (Engine e = engine(); Network net = e.build(spec, spec.initialParameters(1));
                Training t = Training.start(net, optimizer)) {
            double first = t.step(train, batch(spec, 8, random)).loss();
            double last = first;
            for (int s = 0; s < steps; s++) {
                last = t.step(train, batch(spec, 8, random)).loss();
            }
            assertThat(last).as("%s memorising one batch", spec).isLessThan(first * 0.5);
        }
    }

    @Test
    void theSmallCnnHasTheDescriptionsLayout() {
        List<HostTensor> init = new ArrayList<>();
        for (HostTensor p : SMALL_CNN.initialParameters(2)) {
            double[] v = p.values().clone();
            for (int i = 0; i < v.length; i++) {
                v[i] *= 4; // logits far from uniform, so that a wrong layout shows in the loss
            }
            init.add(new HostTensor(p.shape(), v));
        }
        Batch b = batch(SMALL_CNN, 10, new SplittableRandom(6));
        try (Engine e = engine(); Network net = e.build(SMALL_CNN, init)) {
            List<HostTensor> params = net.parameters();
            assertStoredAsFloats(params, init);
            assertThat(params.get(4).shape()).isEqualTo(new int[] {3, SMALL_CNN.flattened()});
            double expected = HostForward.loss(HostForward.cnn(SMALL_CNN, params, b), b.labels());
            assertThat(expected).as("far from ln 3").isNotCloseTo(Math.log(3), within(0.05));
            assertThat(net.evaluate(b).loss()).isCloseTo(expected, within(1e-5));
            assertThat(net.runningStatistics()).isEmpty();
        }
    }

    @Test
    void theStandardModelsBuild() {
        try (Engine e = engine()) {
            for (String name : ModelSpec.STANDARD) {
                ModelSpec spec = ModelSpec.standard(name);
                try (Network net = e.build(spec, spec.initialParameters(3))) {
                    assertThat(net.parameters()).extracting(HostTensor::shape)
                            .containsExactlyElementsOf(spec.parameterShapes());
                    assertThat(net.runningStatistics()).isEqualTo(spec.initialStatistics());
                    assertThat(net.evaluate(batch(spec, 3, new SplittableRandom(1))).loss())
                            .isCloseTo(Math.log(10), within(0.5));
                }
            }
        }
    }

    /** The step of a NaN validation batch is not applied: the clean pass's statistics are not kept. */
    @Test
    void aStepNotAppliedLeavesTheRunningStatisticsBitForBit() {
        for (BadValuePolicy policy : BadValuePolicy.values()) {
            SplittableRandom random = new SplittableRandom(7);
            Batch train = batch(BN_MLP, 16, random);
            Batch validation = batch(BN_MLP, 4, random);
            Batch poisoned = withNaN(validation);
            try (Engine e = engine(); Network net = e.build(BN_MLP, BN_MLP.initialParameters(10));
                    Training t = Training.start(net, AppliedFlag.said(StepProgram.of(AGNOSTIC)), policy)) {
                t.step(train, validation);
                List<HostTensor> stats = net.runningStatistics();
                List<HostTensor> params = net.parameters();
                List<HostTensor> state = t.optimizerState();
                if (policy == BadValuePolicy.THROW) {
                    assertThatThrownBy(() -> t.step(train, poisoned)).isInstanceOf(NonFiniteStepException.class);
                } else {
                    assertThat(t.step(train, poisoned).applied()).isFalse();
                }
                assertThat(net.runningStatistics()).as(policy.toString()).isEqualTo(stats);
                assertThat(net.parameters()).isEqualTo(params);
                assertThat(t.optimizerState()).isEqualTo(state);
                t.step(train, validation);
                assertThat(net.runningStatistics()).as("an applied step moves them").isNotEqualTo(stats);
            }
        }
    }

    /** A program that does not say whether it applied the step: statistics are kept when not finite. */
    @Test
    void withoutTheAppliedFlagStatisticsThatAreNotFiniteAreNotKept() {
        SplittableRandom random = new SplittableRandom(8);
        Batch train = batch(BN_MLP, 16, random);
        try (Engine e = engine(); Network net = e.build(BN_MLP, BN_MLP.initialParameters(11));
                Training t = Training.start(net, AppliedFlag.unsaid(StepProgram.of(Sgd.builder().lr(0.1).build())),
                        BadValuePolicy.SKIP)) {
            t.step(train);
            List<HostTensor> stats = net.runningStatistics();
            assertThat(t.step(withNaN(train)).applied()).isFalse();
            assertThat(net.runningStatistics()).isEqualTo(stats);
            t.step(train);
            assertThat(net.runningStatistics()).isNotEqualTo(stats);
        }
    }

    @Test
    void everyMethodSaysSoOnceClosed() {
        List<HostTensor> init = BN_MLP.initialParameters(12);
        Batch train = batch(BN_MLP, 8, new SplittableRandom(9));
        StepProgram program = StepProgram.of(Sgd.builder().lr(0.1).build());
        double[] scalars = program.scalars(0);
        Engine e = engine();
        Network net = e.build(BN_MLP, init);
        CompiledStep step = net.compile(program);
        step.run(train, null, scalars).read();
        step.close();
        assertClosed(() -> step.run(train, null, scalars), "step is closed");
        assertClosed(step::state, "step is closed");

        CompiledStep open = net.compile(program);
        Training training = Training.start(net, Sgd.builder().lr(0.1).build());
        net.close();
        net.close(); // twice is fine
        assertClosed(net::parameters, "network is closed");
        assertClosed(() -> net.setParameters(init), "network is closed");
        assertClosed(net::runningStatistics, "network is closed");
        assertClosed(() -> net.evaluate(train), "network is closed");
        assertClosed(() -> net.compile(program), "network is closed");
        assertClosed(() -> open.run(train, null, scalars), "network is closed");
        assertClosed(open::state, "network is closed");
        assertClosed(() -> training.step(train), "network is closed");
        assertThat(net.model()).isEqualTo(BN_MLP);

        e.close();
        e.close();
        assertClosed(() -> e.build(BN_MLP, init), "engine is closed");
    }

    private static void assertClosed(ThrowingCallable call, String message) {
        assertThatThrownBy(call).isInstanceOf(IllegalStateException.class).hasMessageContaining(message);
    }

    private static void assertStoredAsFloats(List<HostTensor> stored, List<HostTensor> given) {
        assertThat(stored).hasSize(given.size());
        for (int i = 0; i < given.size(); i++) {
            assertThat(stored.get(i).shape()).isEqualTo(given.get(i).shape());
            double[] v = given.get(i).values();
            for (int j = 0; j < v.length; j++) {
                assertThat(stored.get(i).values()[j]).isEqualTo((float) v[j]);
            }
        }
    }

    private static Batch withNaN(Batch b) {
        double[] x = b.features().values().clone();
        x[1] = Double.NaN;
        return new Batch(new HostTensor(b.features().shape(), x), b.labels());
    }
}
