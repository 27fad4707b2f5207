package io.github.agnosticsam.conformance;

import static io.github.agnosticsam.conformance.Kit.MODEL;
import static io.github.agnosticsam.conformance.Kit.RELU_MODEL;
import static io.github.agnosticsam.conformance.Kit.assertClose;
import static io.github.agnosticsam.conformance.Kit.poison;
import static io.github.agnosticsam.conformance.Kit.sgd;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.Adam;
import io.github.agnosticsam.optim.AgnosticSam;
import io.github.agnosticsam.optim.Optimizer;
import io.github.agnosticsam.optim.Sam;
import io.github.agnosticsam.optim.Sgd;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.training.BadValuePolicy;
import io.github.agnosticsam.training.NonFiniteStepException;
import io.github.agnosticsam.training.StepResult;
import io.github.agnosticsam.training.Training;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The bad-value promise end to end: a step that meets NaN or ±Inf (in either batch, in one gradient
 * element under a finite loss, or in the update) throws under {@code THROW} or is skipped under
 * {@code SKIP}, and leaves parameters, optimizer state and running statistics bit-identical; the
 * schedule counts every step, Adam only the applied ones.
 */
public interface BadValuesContract extends EngineContract {

    // The bad-value rule.
    @Test
    default void nanInTheTrainBatchThrowsAndChangesNothing() {
        Data data = new Data(18);
        AgnosticSam opt = AgnosticSam.builder().base(Adam.builder().lr(0.01).build()).rho1(0.2).rho2(0.1).build();
        try (Network net = kit().build(data.init()); Training t = Training.start(net, opt)) {
            t.step(data.train(0), data.validation(0));
            List<HostTensor> params = net.parameters();
            List<HostTensor> state = t.optimizerState();
            Batch poisoned = poison(data.train(1), Double.NaN);
            assertThatThrownBy(() -> t.step(poisoned, data.validation(1)))
                    .as("NaN in the train batch must throw (suspect allFinite, div with a scalar on the left)")
                    .isInstanceOf(NonFiniteStepException.class)
                    .hasMessageContaining("pass 1 (train)").hasMessageContaining("unchanged");
            assertThat(net.parameters()).as("parameters unchanged by a step not applied (suspect where)")
                    .isEqualTo(params);
            assertThat(t.optimizerState()).as("optimizer state unchanged by a step not applied (suspect where)")
                    .isEqualTo(state);
            assertThat(t.skippedSteps()).isEqualTo(1);
            t.step(data.train(2), data.validation(2));
            assertThat(net.parameters()).isNotEqualTo(params);
        }
    }

    @Test
    default void infinityInTheValidationBatchIsSkippedAndCounted() {
        Data data = new Data(19);
        Sgd base = Sgd.builder().lr(0.1).momentum(0.9).build();
        AgnosticSam opt = AgnosticSam.builder().base(base).rho1(0.2).rho2(0.1).build();
        try (Network net = kit().build(data.init()); Training t = Training.start(net, opt, BadValuePolicy.SKIP)) {
            t.step(data.train(0), data.validation(0));
            List<HostTensor> params = net.parameters();
            List<HostTensor> state = t.optimizerState();
            StepResult r = t.step(data.train(1), poison(data.validation(1), Double.POSITIVE_INFINITY));
            assertThat(r.applied()).as("a step with +Inf in the validation batch must not be applied: suspect the "
                    + "oracle's batch for validation passes (Pass.usesValidationBatch), allFinite, div, where").isFalse();
            assertThat(r.skipReason()).as("the reason names the validation pass").get().asString()
                    .contains("pass 2 (validation)");
            assertThat(r.gradientEvaluations()).isEqualTo(4);
            assertThat(Double.isFinite(r.loss())).as("the train loss is reported as computed").isTrue();
            assertThat(net.parameters()).as("parameters unchanged by a step not applied (suspect where)")
                    .isEqualTo(params);
            assertThat(t.optimizerState()).as("optimizer state unchanged by a step not applied (suspect where)")
                    .isEqualTo(state);
            assertThat(t.skippedSteps()).isEqualTo(1);
            assertThat(t.step(data.train(2), data.validation(2)).applied()).as("the next, good step is applied")
                    .isTrue();
            assertThat(t.skippedSteps()).isEqualTo(1);
        }
    }

    // The bad-value promise end to end: whatever went non-finite, a step that is not applied leaves
    // parameters, optimizer state, running statistics and Adam's step count bit-identical; the
    // schedule index (steps()) counts it and skippedSteps() counts it.

    @Test
    default void nanOrInfinityInEitherBatchChangesNothingUnderThrowAndSkip() {
        ModelSpec model = kit().statisticsModel();
        for (BadValuePolicy policy : BadValuePolicy.values()) {
            for (double bad : new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
                for (boolean inValidation : new boolean[] {false, true}) {
                    String what = bad + " in the " + (inValidation ? "validation" : "train") + " batch under " + policy
                            + " on " + model;
                    assertStepChangesNothing(what, policy, model, model.initialParameters(23), (data, s) -> inValidation
                            ? new Batch[] {data.train(s), poison(data.validation(s), bad)}
                            : new Batch[] {poison(data.train(s), bad), data.validation(s)},
                            adamAgnosticSam(), inValidation ? "pass 2 (validation)" : "pass 1 (train)");
                }
            }
        }
    }

    @Test
    default void aFiniteLossWithOneNonFiniteGradientElementChangesNothing() {
        // One huge input value with no path to the logits (its column of W0 is 0) and steep later
        // layers: the loss stays finite while ∂loss/∂W0 = δ·x overflows in the engine's precision
        // (tried in float32 first, then in float64).
        List<HostTensor> steep = steepParameters(RELU_MODEL.initialParameters(24));
        for (double huge : new double[] {3.0e38, 1.7e308}) {
            Data data = new Data(24);
            try (Network net = kit().build(RELU_MODEL, steep)) {
                Probes.Gradients g = Probes.gradients(net, hugeInput(data.train(1), huge));
                boolean overflows = g.grads().stream().flatMapToDouble(Arrays::stream)
                        .anyMatch(v -> !Double.isFinite(v));
                if (!Double.isFinite(g.loss()) || !overflows) {
                    continue; // not this precision
                }
            }
            for (BadValuePolicy policy : BadValuePolicy.values()) {
                assertStepChangesNothing("a non-finite gradient element with a finite loss under " + policy, policy,
                        RELU_MODEL, steep, (d, s) -> new Batch[] {hugeInput(d.train(s), huge), d.validation(s)},
                        adamAgnosticSam(), "pass 1 (train) gradient of parameter W0",
                        BadValuesContract::cutFirstInput); // the good step moved W0's first column

            }
            return;
        }
        throw new AssertionError("found no input value whose gradient overflows while the loss stays finite: suspect "
                + "the oracle's loss and gradients on " + RELU_MODEL + " (read back through a probe step's summary)");
    }

    @Test
    default void anUpdateThatOverflowsChangesNothing() {
        // Every hyperparameter is one float32 holds; what overflows is the update of one weight that
        // no input reaches: W0's first column, set to a huge finite value after the first step, while
        // every bad batch has 0 as its first input. Its gradient is exactly 0 and the loss does not see
        // it, but weight decay makes lr·λ·θ = 1e4·1e5·θ overflow (θ = 1e300 in float64, 1e30 in float32).
        double huge = kit().float64() ? 1e300 : 1e30;
        Sgd sgd = Sgd.builder().lr(step -> step == 0 ? 0 : 1e4).momentum(0.9).weightDecay(1e5).build();
        ModelSpec model = kit().statisticsModel();
        for (BadValuePolicy policy : BadValuePolicy.values()) {
            assertStepChangesNothing("an update that overflows under " + policy + " on " + model, policy, model,
                    model.initialParameters(25), (d, s) -> new Batch[] {hugeInput(d.train(s), 0),
                        hugeInput(d.validation(s), 0)},
                    AgnosticSam.builder().base(sgd).rho1(0.2).rho2(0.1).build(), "the update made parameter",
                    params -> firstInputWeights(params, huge));
        }
    }

    /**
     * A skipped step names the one parameter whose update went bad, and that is the last one here:
     * an engine that keeps the parameters in one vector must still tell them apart (one flag for
     * the whole vector would name the first). Only b2's first element is huge; weight decay makes
     * its update overflow, every other update stays finite.
     */
    @Test
    default void aSkippedStepNamesTheLastParameterWhenOnlyItWentBad() {
        double huge = kit().float64() ? 1e300 : 1e30;
        Data data = new Data(27);
        List<HostTensor> init = new ArrayList<>(data.init());
        int last = init.size() - 1;
        HostTensor bias = init.get(last).copy();
        bias.values()[0] = huge;
        init.set(last, bias);
        Sgd sgd = Sgd.builder().lr(1e4).weightDecay(1e5).build();
        try (Network net = kit().build(init); Training t = Training.start(net, sgd, BadValuePolicy.SKIP)) {
            List<HostTensor> before = net.parameters();
            StepResult r = t.step(data.train(0));
            assertThat(r.applied()).as("a step whose update of %s overflows", MODEL.parameterNames().get(last)).isFalse();
            assertThat(r.skipReason().orElseThrow()).contains("parameter " + MODEL.parameterNames().get(last))
                    .doesNotContain("parameter " + MODEL.parameterNames().get(0));
            assertThat(net.parameters()).isEqualTo(before);
        }
    }

    /** Copies with W0's first column set to {@code value}. */
    private static List<HostTensor> firstInputWeights(List<HostTensor> params, double value) {
        List<HostTensor> out = cutFirstInput(params);
        HostTensor w0 = out.get(0);
        for (int o = 0; o < w0.shape()[0]; o++) {
            w0.values()[o * w0.shape()[1]] = value;
        }
        return out;
    }

    @Test
    default void theScheduleCountsEveryStepAndAdamCountsAppliedSteps() {
        Data data = new Data(22);
        List<Long> seen = new ArrayList<>();
        Sgd scheduled = Sgd.builder().lr(step -> {
            seen.add(step);
            return 0.1;
        }).build();
        try (Network net = kit().build(MODEL, data.init());
                Training t = Training.start(net, Sam.builder().base(scheduled).rho(0.2).build(), BadValuePolicy.SKIP)) {
            t.step(data.train(0));
            t.step(poison(data.train(1), Double.NaN));
            t.step(data.train(2));
            // (A graph engine may also ask for step 0's values once, to count the scalar inputs.)
            assertThat(seen.subList(Math.max(0, seen.size() - 3), seen.size()))
                    .as("schedule indices of the three steps: a skipped step still advances the schedule")
                    .containsExactly(0L, 1L, 2L);
            assertThat(t.steps()).isEqualTo(3);
            assertThat(t.skippedSteps()).isEqualTo(1);
            assertThat(t.appliedSteps()).isEqualTo(2);
        }
    }

    @Test
    default void adamAfterASkippedStepGoesOnAsIfItHadNotHappened() {
        // Adam's bias corrections count applied steps: [good, NaN, good] must equal [good, good].
        Data data = new Data(27);
        Adam adam = Adam.builder().lr(0.05).build();
        try (Network skipped = kit().build(data.init()); Training a = Training.start(skipped, adam, BadValuePolicy.SKIP);
                Network straight = kit().build(data.init()); Training b = Training.start(straight, adam, BadValuePolicy.SKIP)) {
            a.step(data.train(0));
            assertThat(a.step(poison(data.train(1), Double.NaN)).applied()).as("the NaN step is skipped").isFalse();
            a.step(data.train(2));
            b.step(data.train(0));
            b.step(data.train(2));
            assertClose("Adam after a skipped step: its step count (bias corrections) must not advance on a skipped "
                    + "step (suspect the engine's use of the scalar inputs)", skipped.parameters(), straight.parameters(),
                    10 * kit().relativeRounding());
        }
    }

    private void assertStepChangesNothing(String what, BadValuePolicy policy, ModelSpec model, List<HostTensor> init,
            BiFunction<Data, Integer, Batch[]> badBatches, Optimizer optimizer, String reason) {
        assertStepChangesNothing(what, policy, model, init, badBatches, optimizer, reason, p -> p);
    }

    /**
     * Runs one good step, adjusts the parameters, then runs a bad step and checks that it changed
     * nothing.
     */
    private void assertStepChangesNothing(String what, BadValuePolicy policy, ModelSpec model, List<HostTensor> init,
            BiFunction<Data, Integer, Batch[]> badBatches, Optimizer optimizer, String reason,
            UnaryOperator<List<HostTensor>> afterGoodStep) {
        Data data = new Data(23);
        try (Network net = kit().build(model, init); Training t = Training.start(net, optimizer, policy)) {
            assertThat(t.step(data.train(0), data.validation(0)).applied()).as(what + ": the first, good step").isTrue();
            net.setParameters(afterGoodStep.apply(net.parameters()));
            List<HostTensor> params = net.parameters();
            List<HostTensor> state = t.optimizerState();
            List<HostTensor> statistics = net.runningStatistics();
            Batch[] bad = badBatches.apply(data, 1);
            StepResult r;
            if (policy == BadValuePolicy.THROW) {
                Throwable thrown = catchThrowable(() -> t.step(bad[0], bad[1]));
                assertThat(thrown).as(what + ": the step must throw NonFiniteStepException (suspect allFinite, "
                        + "div with a scalar on the left, where)").isInstanceOf(NonFiniteStepException.class);
                r = ((NonFiniteStepException) thrown).result();
            } else {
                r = t.step(bad[0], bad[1]);
            }
            assertThat(r.applied()).as(what + ": step reported as applied (suspect allFinite, div, where)").isFalse();
            assertThat(r.skipReason()).as(what + ": the reason").get().asString().contains(reason);
            assertThat(net.parameters()).as(what + ": parameters must be bit-identical (suspect where, allFinite, "
                    + "div with a scalar on the left, or a perturbed pass writing θ in place)").isEqualTo(params);
            assertThat(t.optimizerState()).as(what + ": optimizer state must be bit-identical (suspect where, or "
                    + "state stored without the guard)").isEqualTo(state);
            assertThat(net.runningStatistics()).as(what + ": running statistics must be bit-identical (suspect the "
                    + "engine's commit of statistics: only when StepOutput.applied() is 1)").isEqualTo(statistics);
            assertThat(t.steps()).as(what + ": the schedule index counts every step").isEqualTo(2);
            assertThat(t.skippedSteps()).as(what + ": skipped steps").isEqualTo(1);
            assertThat(t.appliedSteps()).as(what + ": Adam's step count counts applied steps only").isEqualTo(1);
        }
    }


    private static Optimizer adamAgnosticSam() {
        return AgnosticSam.builder().base(Adam.builder().lr(0.01).build()).rho1(0.2).rho2(0.1).build();
    }

    /** Every example's first input set to a huge value. */
    private static Batch hugeInput(Batch batch, double huge) {
        double[] x = batch.features().values().clone();
        int width = x.length / batch.size();
        for (int i = 0; i < batch.size(); i++) {
            x[i * width] = huge;
        }
        return new Batch(new HostTensor(batch.features().shape(), x), batch.labels());
    }

    /** W0's first column 0 (the first input reaches nothing), later weights ×100 (a large δ at layer 0). */
    private static List<HostTensor> steepParameters(List<HostTensor> params) {
        List<HostTensor> out = cutFirstInput(params);
        for (int p = 1; p < out.size(); p++) {
            HostTensor t = out.get(p);
            double[] v = t.values();
            if (t.shape().length == 2) {
                for (int i = 0; i < v.length; i++) {
                    v[i] *= 100;
                }
            }
        }
        return out;
    }

    /** Copies with W0's first column set to 0. */
    private static List<HostTensor> cutFirstInput(List<HostTensor> params) {
        List<HostTensor> out = new ArrayList<>();
        for (HostTensor p : params) {
            out.add(p.copy());
        }
        HostTensor w0 = out.get(0);
        for (int o = 0; o < w0.shape()[0]; o++) {
            w0.values()[o * w0.shape()[1]] = 0;
        }
        return out;
    }
}
