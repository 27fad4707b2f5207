package io.github.agnosticsam.conformance.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.agnosticsam.Engines;
import io.github.agnosticsam.model.Activation;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.Evaluation;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.AgnosticSam;
import io.github.agnosticsam.optim.Optimizer;
import io.github.agnosticsam.optim.Sam;
import io.github.agnosticsam.optim.Sgd;
import io.github.agnosticsam.spi.CompiledStep;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import io.github.agnosticsam.spi.GradientOracle;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.spi.Pass;
import io.github.agnosticsam.spi.StateSlot;
import io.github.agnosticsam.spi.StepOutput;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.spi.Tensors;
import io.github.agnosticsam.spi.UnsupportedFeatureException;
import io.github.agnosticsam.training.BadValuePolicy;
import io.github.agnosticsam.training.StepResult;
import io.github.agnosticsam.training.Training;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Running statistics on the reference engine: only the clean train pass moves them, they are
 * committed only with an applied step, and evaluation normalises with them. The expected values
 * come from a BatchNorm forward pass written out again here.
 */
class ReferenceNetworkStatisticsTest {
    private static final ModelSpec.Mlp TWO_BN = new ModelSpec.Mlp(new int[] {4, 5, 3, 2}, Activation.TANH, 0.0, true);
    private static final ModelSpec.Mlp ONE_BN = new ModelSpec.Mlp(new int[] {3, 4, 2}, Activation.RELU, 0.1, true);
    private static final double TOLERANCE = 1e-14;

    @ParameterizedTest
    @ValueSource(strings = {"sgd", "sam", "agnostic-sam"})
    void aStepMovesTheStatisticsByItsCleanTrainPassOnly(String optimizer) {
        List<HostTensor> init = HostModelGradientTest.trainedLooking(TWO_BN, 1);
        Batch train = HostModelGradientTest.batch(TWO_BN, 6, 2);
        Batch validation = HostModelGradientTest.batch(TWO_BN, 3, 3);
        try (Network net = new ReferenceNetwork(TWO_BN, init, false); Training t = Training.start(net, optimizer(optimizer))) {
            StepResult r = t.program().usesValidationBatch() ? t.step(train, validation) : t.step(train);
            assertThat(r.applied()).isTrue();
            assertThat(net.parameters()).isNotEqualTo(init);
            assertClose(net.runningStatistics(), moved(init, TWO_BN.initialStatistics(), train));
        }
    }

    @Test
    void theNextStepStartsFromTheCommittedStatistics() {
        List<HostTensor> init = HostModelGradientTest.trainedLooking(TWO_BN, 4);
        Batch first = HostModelGradientTest.batch(TWO_BN, 5, 5);
        Batch second = HostModelGradientTest.batch(TWO_BN, 7, 6);
        try (Network net = new ReferenceNetwork(TWO_BN, init, false); Training t = Training.start(net, optimizer("sam"))) {
            t.step(first);
            List<HostTensor> afterFirst = net.runningStatistics();
            List<HostTensor> paramsAfterFirst = net.parameters();
            t.step(second);
            assertClose(net.runningStatistics(), moved(paramsAfterFirst, afterFirst, second));
        }
    }

    @Test
    void statisticsAreCommittedExactlyWhenTheProgramSaysApplied() {
        Batch train = HostModelGradientTest.batch(TWO_BN, 4, 7);
        List<HostTensor> init = TWO_BN.initialParameters(7);
        List<HostTensor> expected = moved(init, TWO_BN.initialStatistics(), train);
        assertClose(statisticsAfter(new OnePass(Pass.TRAIN, 1.0), train), expected);
        assertThat(statisticsAfter(new OnePass(Pass.TRAIN, 0.0), train)).isEqualTo(TWO_BN.initialStatistics());
        // Applied, but the batch makes the statistics NaN: they are committed only where finite.
        Batch bad = new Batch(train.features().copy(), train.labels());
        bad.features().values()[2] = Double.NaN;
        assertThat(statisticsAfter(new OnePass(Pass.TRAIN, 1.0), bad)).isEqualTo(TWO_BN.initialStatistics());
    }

    @ParameterizedTest
    @ValueSource(strings = {"TRAIN_PERTURBED", "VALIDATION", "VALIDATION_PERTURBED"})
    void otherPassesNeverMoveTheStatistics(String pass) {
        Batch train = HostModelGradientTest.batch(TWO_BN, 4, 8);
        assertThat(statisticsAfter(new OnePass(Pass.valueOf(pass), 1.0), train)).isEqualTo(TWO_BN.initialStatistics());
    }

    @Test
    void aStepThatThrowsChangesNothing() {
        Batch train = HostModelGradientTest.batch(TWO_BN, 4, 9);
        try (Network net = new ReferenceNetwork(TWO_BN, TWO_BN.initialParameters(9), false)) {
            StepProgram throwing = new OnePass(Pass.TRAIN, 1.0) {
                @Override
                <T> StepOutput<T> after(Tensors<T> ops, List<T> parameters, List<T> state) {
                    throw new IllegalArgumentException("bad schedule value");
                }
            };
            List<HostTensor> params = net.parameters();
            try (CompiledStep step = net.compile(throwing)) {
                List<HostTensor> state = step.state();
                assertThatThrownBy(() -> step.run(train, null, new double[0]))
                        .isInstanceOf(IllegalArgumentException.class).hasMessage("bad schedule value");
                assertThat(step.state()).isEqualTo(state);
            }
            assertThat(net.parameters()).isEqualTo(params);
            assertThat(net.runningStatistics()).isEqualTo(TWO_BN.initialStatistics());
        }
    }

    @Test
    void aSkippedStepKeepsTheStatistics() {
        Batch bad = HostModelGradientTest.batch(TWO_BN, 4, 10);
        bad.features().values()[0] = Double.POSITIVE_INFINITY;
        try (Network net = new ReferenceNetwork(TWO_BN, TWO_BN.initialParameters(10), false);
                Training t = Training.start(net, optimizer("sam"), BadValuePolicy.SKIP)) {
            List<HostTensor> params = net.parameters();
            assertThat(t.step(bad).applied()).isFalse();
            assertThat(net.parameters()).isEqualTo(params);
            assertThat(net.runningStatistics()).isEqualTo(TWO_BN.initialStatistics());
        }
    }

    @Test
    void evaluationNormalisesWithTheRunningStatistics() {
        List<HostTensor> init = HostModelGradientTest.trainedLooking(ONE_BN, 11);
        Batch batch = HostModelGradientTest.batch(ONE_BN, 8, 11);
        try (Network net = new ReferenceNetwork(ONE_BN, init, false);
                Training t = Training.start(net, Sgd.builder().lr(0).build())) {
            assertEvaluation(net.evaluate(batch), init, ONE_BN.initialStatistics(), batch);
            StepResult r = t.step(batch); // lr 0: θ stays, the statistics move
            List<HostTensor> statistics = net.runningStatistics();
            assertThat(statistics).isNotEqualTo(ONE_BN.initialStatistics());
            Evaluation e = net.evaluate(batch);
            assertEvaluation(e, init, statistics, batch);
            // The step's loss is training mode's, with the batch's own statistics.
            assertThat(Math.abs(e.loss() - r.loss())).isGreaterThan(1e-3);
            assertThat(net.runningStatistics()).isEqualTo(statistics);
        }
    }

    @Test
    void runningStatisticsAreCopiesAndEmptyWithoutBatchNorm() {
        try (Network net = new ReferenceNetwork(ONE_BN, ONE_BN.initialParameters(0), false)) {
            net.runningStatistics().get(1).values()[0] = 42;
            assertThat(net.runningStatistics()).isEqualTo(ONE_BN.initialStatistics());
        }
        ModelSpec plain = new ModelSpec.Mlp(new int[] {3, 4, 2}, Activation.RELU, 0.0);
        try (Network net = new ReferenceNetwork(plain, plain.initialParameters(0), false)) {
            assertThat(net.runningStatistics()).isEmpty();
        }
    }

    @Test
    void theEngineTrainsASmallCnn() {
        ModelSpec.Cnn spec = new ModelSpec.Cnn(8, 2, 3, 3);
        Batch batch = HostModelGradientTest.batch(spec, 4, 12);
        try (Engine engine = Engines.load("reference", EngineOptions.DEFAULT);
                Network net = engine.build(spec, spec.initialParameters(12));
                Training t = Training.start(net, optimizer("agnostic-sam"))) {
            double before = net.evaluate(batch).loss();
            for (int s = 0; s < 5; s++) {
                assertThat(t.step(batch, batch).applied()).isTrue();
            }
            assertThat(net.evaluate(batch).loss()).isLessThan(before);
            assertThat(net.runningStatistics()).isEmpty();
        }
    }

    @Test
    void aCustomModelIsUnsupported() {
        ModelSpec custom = new ModelSpec.Custom("custom", new int[] {3}, 2, List.of(new int[] {2, 3}), List.of("W"),
                List.of(3), 0.0);
        try (Engine engine = Engines.load("reference", EngineOptions.DEFAULT)) {
            assertThatThrownBy(() -> engine.build(custom, custom.initialParameters(0)))
                    .isInstanceOf(UnsupportedFeatureException.class).hasMessageContaining("custom");
        }
    }

    // Helpers.

    private static Optimizer optimizer(String name) {
        Sgd sgd = Sgd.builder().lr(0.1).momentum(0.9).build();
        return switch (name) {
            case "sgd" -> sgd;
            case "sam" -> Sam.builder().base(sgd).rho(0.5).build();
            case "agnostic-sam" -> AgnosticSam.builder().base(sgd).rho1(0.4).rho2(0.2).build();
            default -> throw new IllegalArgumentException(name);
        };
    }

    /** The statistics of a fresh TWO_BN network after one run of {@code program} on {@code train}. */
    private static List<HostTensor> statisticsAfter(StepProgram program, Batch train) {
        try (Network net = new ReferenceNetwork(TWO_BN, TWO_BN.initialParameters(7), false);
                CompiledStep step = net.compile(program)) {
            step.run(train, train, new double[0]);
            return net.runningStatistics();
        }
    }

    /** Runs one pass and returns the parameters and state unchanged, saying {@code applied}. */
    private static class OnePass implements StepProgram {
        private final Pass pass;
        private final double applied;

        OnePass(Pass pass, double applied) {
            this.pass = pass;
            this.applied = applied;
        }

        @Override
        public List<Pass> passes() {
            return List.of(pass);
        }

        @Override
        public List<StateSlot> state(List<int[]> parameterShapes) {
            return List.of(new StateSlot("probe.0", new int[] {2}, 0.5));
        }

        @Override
        public double[] scalars(long step) {
            return new double[0];
        }

        @Override
        public <T> StepOutput<T> define(Tensors<T> ops, GradientOracle<T> oracle, List<T> parameters, List<T> state,
                List<T> scalars) {
            oracle.evaluate(parameters, pass);
            return after(ops, parameters, state);
        }

        <T> StepOutput<T> after(Tensors<T> ops, List<T> parameters, List<T> state) {
            return new StepOutput<>(parameters, state, ops.scalar(0), ops.scalar(applied));
        }
    }

    /**
     * The running statistics after the clean pass of {@code batch} at {@code params}: per BatchNorm
     * layer 0.9·running + 0.1·(batch mean, unbiased batch variance), the layer's input computed in
     * training mode.
     */
    private static List<HostTensor> moved(List<HostTensor> params, List<HostTensor> running, Batch batch) {
        int[] widths = TWO_BN.layers();
        int n = batch.size();
        double[] h = batch.features().values();
        List<HostTensor> out = new ArrayList<>();
        for (int l = 0; l + 2 < widths.length; l++) {
            int in = widths[l];
            int width = widths[l + 1];
            double[] z = times(h, n, in, params.get(3 * l).values(), width);
            double[] gamma = params.get(3 * l + 1).values();
            double[] beta = params.get(3 * l + 2).values();
            double[] mean = new double[width];
            double[] var = new double[width];
            double[] next = new double[n * width];
            for (int o = 0; o < width; o++) {
                double m = 0;
                for (int i = 0; i < n; i++) {
                    m += z[i * width + o] / n;
                }
                double ss = 0;
                for (int i = 0; i < n; i++) {
                    ss += (z[i * width + o] - m) * (z[i * width + o] - m);
                }
                mean[o] = 0.9 * running.get(2 * l).values()[o] + 0.1 * m;
                var[o] = 0.9 * running.get(2 * l + 1).values()[o] + 0.1 * ss / (n - 1);
                for (int i = 0; i < n; i++) {
                    next[i * width + o] = Math.tanh(gamma[o] * (z[i * width + o] - m) / Math.sqrt(ss / n + 1e-5) + beta[o]);
                }
            }
            out.add(HostTensor.of(mean, width));
            out.add(HostTensor.of(var, width));
            h = next;
        }
        return out;
    }

    /** ONE_BN in evaluation mode by hand: y = γ·(z − mean)/√(var + 1e-5) + β, ReLU, dense, smoothed cross-entropy. */
    private static void assertEvaluation(Evaluation e, List<HostTensor> params, List<HostTensor> statistics, Batch batch) {
        int n = batch.size();
        double[] z = times(batch.features().values(), n, 3, params.get(0).values(), 4);
        double[] h = new double[n * 4];
        for (int i = 0; i < n; i++) {
            for (int o = 0; o < 4; o++) {
                double y = params.get(1).values()[o] * (z[i * 4 + o] - statistics.get(0).values()[o])
                        / Math.sqrt(statistics.get(1).values()[o] + 1e-5) + params.get(2).values()[o];
                h[i * 4 + o] = Math.max(0, y);
            }
        }
        double[] logits = times(h, n, 4, params.get(3).values(), 2);
        double loss = 0;
        int correct = 0;
        for (int i = 0; i < n; i++) {
            double a = logits[i * 2] + params.get(4).values()[0];
            double b = logits[i * 2 + 1] + params.get(4).values()[1];
            double lse = Math.max(a, b) + Math.log1p(Math.exp(-Math.abs(a - b)));
            int y = batch.labels()[i];
            // Smoothing 0.1 over 2 classes: targets 0.95 and 0.05.
            loss -= 0.95 * ((y == 0 ? a : b) - lse) + 0.05 * ((y == 0 ? b : a) - lse);
            correct += (b > a ? 1 : 0) == y ? 1 : 0;
        }
        assertThat(e.count()).isEqualTo(n);
        assertThat(e.correct()).isEqualTo(correct);
        assertThat(e.loss()).isCloseTo(loss / n, within(1e-13));
    }

    /** h·Wᵀ for h of shape [n, in] and W of [out, in]. */
    private static double[] times(double[] h, int n, int in, double[] w, int out) {
        double[] z = new double[n * out];
        for (int i = 0; i < n; i++) {
            for (int o = 0; o < out; o++) {
                for (int k = 0; k < in; k++) {
                    z[i * out + o] += h[i * in + k] * w[o * in + k];
                }
            }
        }
        return z;
    }

    private static void assertClose(List<HostTensor> actual, List<HostTensor> expected) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int t = 0; t < expected.size(); t++) {
            assertThat(actual.get(t).shape()).isEqualTo(expected.get(t).shape());
            for (int j = 0; j < expected.get(t).size(); j++) {
                double e = expected.get(t).values()[j];
                assertThat(actual.get(t).values()[j]).as("statistic %d[%d]", t, j)
                        .isCloseTo(e, within(TOLERANCE * Math.max(1, Math.abs(e))));
            }
        }
    }
}
