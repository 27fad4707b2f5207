package io.github.agnosticsam.conformance;

import static io.github.agnosticsam.conformance.Kit.MODEL;
import static io.github.agnosticsam.conformance.Kit.sgd;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.Evaluation;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.optim.AgnosticSam;
import io.github.agnosticsam.optim.Sgd;
import io.github.agnosticsam.spi.CompiledStep;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.training.StepPrograms;
import io.github.agnosticsam.training.StepResult;
import io.github.agnosticsam.training.Training;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * What {@code Network.evaluate} reports, the input checks, the lifecycle and {@code isAvailable()}.
 */
public interface LifecycleContract extends EngineContract {

    // What Network.evaluate reports.
    @Test
    default void evaluationAgreesWithTheGradientOracle() {
        // Without BatchNorm, evaluation computes the logits as training does, so evaluate() reports
        // the loss the gradient oracle reports on the same batch at the same parameters. And with one
        // example and no label smoothing, the oracle's gradient of the last bias is
        // softmax(logits) − onehot(label): the probabilities, whose argmax says whether the
        // example is predicted right.
        Data data = new Data(31); // 4 of these 8 examples are predicted right at the initial parameters
        Batch batch = firstExamples(data.train(0), 8);
        double tolerance = 100 * kit().relativeRounding();
        try (Network net = kit().build(MODEL, data.init())) {
            int expectedCorrect = 0;
            for (int i = 0; i < batch.size(); i++) {
                Batch one = example(batch, i);
                int label = one.labels()[0];
                Probes.Gradients g = Probes.gradients(net, one);
                double[] probabilities = g.grads().get(g.grads().size() - 1).clone();
                probabilities[label] += 1;
                Evaluation e = net.evaluate(one);
                assertThat(e.count()).as("evaluate(example %d alone).count", i).isEqualTo(1);
                assertThat(e.loss()).as("evaluate(example %d alone).loss against the oracle's loss at the same "
                        + "parameters: the softmax cross-entropy of its label (suspect Network.evaluate: its loss, "
                        + "or the batch or labels it reads)", i)
                        .isCloseTo(g.loss(), within(tolerance * Math.max(1, g.loss())));
                int predicted = argmax(probabilities);
                if (margin(probabilities) > 1e3 * kit().relativeRounding()) { // else a near tie: either answer is right
                    int right = predicted == label ? 1 : 0;
                    expectedCorrect += right;
                    assertThat(e.correct()).as("evaluate(example %d alone).correct: label %d, probabilities %s from "
                            + "the oracle's gradient of the last bias, predicted %d (suspect Network.evaluate's "
                            + "argmax, or the labels it reads)", i, label, Arrays.toString(probabilities),
                            predicted).isEqualTo(right);
                } else {
                    expectedCorrect += e.correct();
                }
            }
            assertThat(expectedCorrect).as("right predictions by the oracle's probabilities: the kit's batch must "
                    + "hold right and wrong ones, so that no constant answer passes")
                    .isStrictlyBetween(0, batch.size());
            Evaluation whole = net.evaluate(batch);
            double loss = Probes.gradients(net, batch).loss();
            assertThat(whole.count()).as("evaluate(batch).count").isEqualTo(batch.size());
            assertThat(whole.loss()).as("evaluate(batch).loss against the oracle's mean loss on the batch (suspect "
                    + "Network.evaluate: its loss, or the batch or labels it reads)")
                    .isCloseTo(loss, within(tolerance * Math.max(1, loss)));
            assertThat(whole.correct()).as("evaluate(batch).correct: the right predictions among its examples, each "
                    + "evaluated alone (suspect Network.evaluate's argmax or count)").isEqualTo(expectedCorrect);
        }
    }

    /** The first {@code n} examples of the batch. */
    private static Batch firstExamples(Batch batch, int n) {
        int width = batch.features().size() / batch.size();
        return new Batch(HostTensor.of(Arrays.copyOf(batch.features().values(), n * width), n, width),
                Arrays.copyOf(batch.labels(), n));
    }

    /** Example {@code i} of the batch, as a batch of one. */
    private static Batch example(Batch batch, int i) {
        int width = batch.features().size() / batch.size();
        double[] x = Arrays.copyOfRange(batch.features().values(), i * width, (i + 1) * width);
        return new Batch(HostTensor.of(x, 1, width), new int[] {batch.labels()[i]});
    }

    private static int argmax(double[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    /** The largest value minus the second largest. */
    private static double margin(double[] v) {
        double[] sorted = v.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length - 1] - sorted[sorted.length - 2];
    }

    // Input checks of setParameters and of Training.step, the same on every engine.

    @Test
    default void setParametersRefusesNonFiniteValuesAndWrongShapesAndKeepsTheOldOnes() {
        Data data = new Data(26);
        try (Network net = kit().build(data.init())) {
            List<HostTensor> before = net.parameters();
            for (double bad : new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
                List<HostTensor> values = data.init();
                values.get(1).values()[3] = bad;
                assertThatThrownBy(() -> net.setParameters(values)).as("setParameters with " + bad + " in b0")
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("parameter " + MODEL.parameterNames().get(1))
                        .hasMessageContaining("element 3").hasMessageContaining(Double.toString(bad));
            }
            List<HostTensor> wrong = new ArrayList<>(data.init());
            wrong.set(0, HostTensor.zeros(6, 12));
            assertThatThrownBy(() -> net.setParameters(wrong)).as("setParameters with W0 transposed")
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("parameter " + MODEL.parameterNames().get(0)).hasMessageContaining("[12, 6]")
                    .hasMessageContaining("[6, 12]");
            assertThatThrownBy(() -> net.setParameters(data.init().subList(0, 2)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("parameter tensors, got 2");
            assertThat(net.parameters()).as("parameters after refused setParameters calls").isEqualTo(before);
        }
    }

    @Test
    default void setParametersRefusesWhatTheEnginesPrecisionCannotHoldAndAFloat64EngineKeepsIt() {
        // 1e300 is finite as a double and beyond float32: a float32 engine would store ±Infinity.
        Data data = new Data(27);
        String b0 = MODEL.parameterNames().get(1);
        try (Network net = kit().build(data.init())) {
            List<HostTensor> before = net.parameters();
            List<HostTensor> huge = data.init();
            huge.get(1).values()[3] = 1e300;
            if (kit().float64()) {
                net.setParameters(huge);
                assertThat(net.parameters().get(1).values()[3]).as("parameter %s element 3 after setParameters "
                        + "with 1e300 on a float64 engine", b0).isEqualTo(1e300);
            } else {
                assertThatThrownBy(() -> net.setParameters(huge)).as("setParameters with 1e300 in %s on a float32 "
                        + "engine (suspect a precision check missing, or largestValue() wrong)", b0)
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("parameter " + b0)
                        .hasMessageContaining("element 3").hasMessageContaining("1.0E300");
                assertThat(net.parameters()).as("parameters after the refused setParameters").isEqualTo(before);
            }
            // The same rule for optimizer state (a checkpoint's): SGD with momentum, one buffer per parameter.
            try (CompiledStep step = net.compile(StepPrograms.of(Sgd.builder().lr(0.1).momentum(0.9).build()))) {
                List<HostTensor> state = step.state();
                List<HostTensor> hugeState = new ArrayList<>();
                state.forEach(t -> hugeState.add(t.copy()));
                hugeState.get(1).values()[3] = -1e300;
                if (kit().float64()) {
                    step.setState(hugeState);
                    assertThat(step.state().get(1).values()[3]).as("optimizer state momentum.1 element 3 after "
                            + "setState with -1e300 on a float64 engine").isEqualTo(-1e300);
                } else {
                    assertThatThrownBy(() -> step.setState(hugeState)).as("setState with -1e300 in momentum.1 on a "
                            + "float32 engine").isInstanceOf(IllegalArgumentException.class)
                            .hasMessageContaining("momentum.1").hasMessageContaining("element 3");
                    assertThat(step.state()).as("optimizer state after the refused setState").isEqualTo(state);
                }
            }
        }
    }

    @Test
    default void aSecondThreadEnteringStepFailsFastAndTheRunningStepIsUndisturbed() throws Exception {
        Data data = new Data(27);
        HeldStep held = new HeldStep();
        Sgd blocking = Sgd.builder().lr(held.lr(0.1)).build();
        try (Network net = kit().build(data.init()); Training t = Training.start(net, blocking)) {
            t.step(data.train(0));
            HeldStep.Race<StepResult> race = held.race(() -> t.step(data.train(1)), () -> t.step(data.train(2)));
            assertThat(race.secondThrew()).as("a second thread in Training.step")
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("Training.step called from two threads at once");
            assertThat(race.first().applied()).as("the step that was running").isTrue();
            assertThat(t.steps()).as("steps: the refused call is no step").isEqualTo(2);
            assertThat(t.step(data.train(2)).applied()).as("a step after the other thread finished").isTrue();
        }
    }

    // Input and hyperparameter checks: a clear error, and nothing changed.
    @Test
    default void aBadBatchOrScheduleValueIsRejectedBeforeAnythingChanges() {
        Data data = new Data(20);
        Sgd base = Sgd.builder().lr(step -> step == 0 ? 0.1 : -1.0).momentum(0.9).build();
        AgnosticSam opt = AgnosticSam.builder().base(base).rho1(0.2).rho2(0.1).build();
        try (Network net = kit().build(data.init()); Training t = Training.start(net, opt)) {
            assertThatThrownBy(() -> t.step(data.train(0)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("validation batch");
            Batch wrongWidth = new Batch(HostTensor.of(new double[10], 2, 5), new int[] {0, 1});
            assertThatThrownBy(() -> t.step(wrongWidth, data.validation(0)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[2, 5]");
            Batch badLabel = new Batch(data.train(0).features(), data.train(0).labels().clone());
            badLabel.labels()[3] = 4;
            assertThatThrownBy(() -> t.step(badLabel, data.validation(0)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("label 3 is 4");
            t.step(data.train(0), data.validation(0));
            List<HostTensor> params = net.parameters();
            List<HostTensor> state = t.optimizerState();
            assertThatThrownBy(() -> t.step(data.train(1), data.validation(1)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lr at step 1")
                    .hasMessageContaining("-1.0");
            assertThat(net.parameters()).isEqualTo(params);
            assertThat(t.optimizerState()).isEqualTo(state);
        }
    }

    // Lifecycle.

    @Test
    default void everyUseAfterCloseIsAnIllegalStateException() {
        Data data = new Data(26);
        Batch batch = data.train(0);
        StepProgram program = StepPrograms.of(sgd(0.1));
        Network net = kit().build(data.init());
        Training training = Training.start(net, sgd(0.1));
        training.close();
        training.close();
        assertClosed(() -> training.step(batch), "Training.step after close", "Training");
        CompiledStep step = net.compile(program);
        step.run(batch, null, program.scalars(0)).read();
        step.close();
        assertClosed(() -> step.run(batch, null, program.scalars(0)), "CompiledStep.run after close", "step");
        assertClosed(step::state, "CompiledStep.state after close", "step");
        CompiledStep open = net.compile(program);
        Training running = Training.start(net, sgd(0.1));
        net.close();
        net.close();
        assertClosed(() -> open.run(batch, null, program.scalars(0)), "CompiledStep.run after its network was closed",
                "network");
        assertClosed(open::state, "CompiledStep.state after its network was closed", "network");
        assertClosed(() -> running.step(batch), "Training.step after its network was closed", "network");
        assertClosed(net::parameters, "Network.parameters after close", "network");
        assertClosed(() -> net.setParameters(data.init()), "Network.setParameters after close", "network");
        assertClosed(() -> net.evaluate(batch), "Network.evaluate after close", "network");
        assertClosed(() -> net.compile(program), "Network.compile after close", "network");
        assertClosed(net::runningStatistics, "Network.runningStatistics after close", "network");
        assertThat(net.model()).as("Network.model() after close: the description is no resource").isEqualTo(MODEL);
        Engine other = kit().createEngine();
        other.close();
        other.close();
        assertClosed(() -> other.build(MODEL, data.init()), "Engine.build after close", "engine");
    }

    /** The call is an IllegalStateException whose message says "<object> is closed". */
    private static void assertClosed(ThrowingCallable call, String what,
            String object) {
        assertThatThrownBy(call).as(what + ": an IllegalStateException saying \"" + object + " is closed\"")
                .isInstanceOf(IllegalStateException.class).hasMessageContaining(object + " is closed");
    }

    @Test
    default void isAvailableLoadsNoNativeLibrary() throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path")));
        String modulePath = System.getProperty("jdk.module.path");
        if (modulePath != null && !modulePath.isBlank()) {
            command.addAll(List.of("--module-path", modulePath, "--add-modules", "ALL-MODULE-PATH"));
        }
        command.addAll(List.of(AvailabilityProbe.class.getName(), kit().engine().name()));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor()).as("the availability probe (a fresh JVM) said:%n%s", output).isZero();
        Assumptions.assumeFalse(output.startsWith("cannot tell"), output.strip());
        assertThat(output.strip()).as("native libraries that %s's isAvailable() loaded", kit().engine().name())
                .isEqualTo("available, no native library loaded");
    }
}
