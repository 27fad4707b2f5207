package io.github.agnosticsam.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.agnosticsam.algorithm.Ascent;
import io.github.agnosticsam.conformance.reference.ReferenceEngineProvider;
import io.github.agnosticsam.diagnostics.Curvature;
import io.github.agnosticsam.diagnostics.CurvatureOptions;
import io.github.agnosticsam.model.Activation;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.Evaluation;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.Adam;
import io.github.agnosticsam.optim.AgnosticSam;
import io.github.agnosticsam.optim.Optimizer;
import io.github.agnosticsam.optim.Sam;
import io.github.agnosticsam.optim.Schedule;
import io.github.agnosticsam.optim.Sgd;
import io.github.agnosticsam.spi.CompiledStep;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.spi.StateSlot;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.spi.UnsupportedFeatureException;
import io.github.agnosticsam.training.BadValuePolicy;
import io.github.agnosticsam.training.Checkpoint;
import io.github.agnosticsam.training.CheckpointException;
import io.github.agnosticsam.training.NonFiniteStepException;
import io.github.agnosticsam.training.StepPrograms;
import io.github.agnosticsam.training.StepResult;
import io.github.agnosticsam.training.Training;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine TCK. An engine module proves itself by extending this class in its tests:
 *
 * <pre>{@code
 * class MyEngineConformanceTest extends EngineConformanceTest {
 *     protected Engine createEngine() { return Engines.load("mine", EngineOptions.DEFAULT); }
 * }
 * }</pre>
 *
 * It runs every golden case and checks the operations of the engine's algebra one by one, the
 * properties of docs/algorithm.md, the bad-value rule, which pass moves running statistics, what
 * {@link Network#evaluate} reports, the models it builds (against the float64 {@code reference}
 * engine), the input checks, checkpoints and the lifecycle (docs/conformance-kit.md).
 * A feature the engine does not support ({@link UnsupportedFeatureException}) is reported as
 * aborted, never as passed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class EngineConformanceTest {

    private static final ModelSpec.Mlp MODEL = new ModelSpec.Mlp(new int[] {6, 12, 9, 4}, Activation.TANH, 0);
    private static final ModelSpec.Mlp RELU_MODEL = new ModelSpec.Mlp(new int[] {6, 12, 9, 4}, Activation.RELU, 0);
    private static final ModelSpec.Mlp BN_MODEL = new ModelSpec.Mlp(new int[] {6, 12, 9, 4}, Activation.TANH, 0, true);
    /**
     * 16 channels in the second convolution: with fewer output channels, PyTorch 2.7.1's CPU conv2d
     * backward computes a wrong input gradient with 2 threads on AVX-512 machines
     * (docs/conformance-kit.md).
     */
    private static final ModelSpec.Cnn SMALL_CNN = new ModelSpec.Cnn(8, 4, 16, 3);

    private Engine engine;
    /** The float64 reference engine (checked against PyTorch): the independent model of the engine's networks. */
    private Engine reference;

    /** The engine under test; created once for the class and closed after it. */
    protected abstract Engine createEngine();

    /**
     * Relative rounding allowance of the engine's arithmetic: 1e-6 for float32 (the default),
     * 1e-12 for float64.
     */
    protected double relativeRounding() {
        return 1e-6;
    }

    @BeforeAll
    void createTheEngine() {
        engine = createEngine();
        reference = new ReferenceEngineProvider().create(EngineOptions.DEFAULT);
    }

    @AfterAll
    void closeTheEngine() {
        if (engine != null) {
            engine.close();
        }
        if (reference != null) {
            reference.close();
        }
    }

    /** The engine under test. */
    protected final Engine engine() {
        return engine;
    }

    @TestFactory
    Stream<DynamicTest> goldenCases() {
        return GoldenCases.names().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            CaseResult r = CaseRunner.run(engine, GoldenCases.load(name));
            if (r.outcome() == CaseResult.Outcome.SKIP) {
                Assumptions.abort(r.line());
            }
            assertThat(r.outcome()).as(r.line()).isEqualTo(CaseResult.Outcome.PASS);
        }));
    }

    /** Each operation of the engine's algebra on its own: {@link TensorsContract}. */
    @TestFactory
    Stream<DynamicTest> tensorOperations() {
        return TensorsContract.run(engine, relativeRounding()).stream().map(r -> DynamicTest.dynamicTest(r.name(), () -> {
            if (r.outcome() == CaseResult.Outcome.SKIP) {
                Assumptions.abort(r.line());
            }
            assertThat(r.outcome()).as(r.line()).isEqualTo(CaseResult.Outcome.PASS);
        }));
    }

    /**
     * The curvature diagnostics ({@link Curvature}, central differences of this engine's gradients)
     * against PyTorch's exact Hessian of a tanh MLP ({@link CurvatureGolden}): Hessian-vector products
     * within 1e-3 relative in float32 (1e-6 in float64), λ_max within 2 % (1e-6), Hutchinson's mean for
     * the golden probes within 1e-3 (1e-6), SAM's one-step ρ-sharpness within 1e-3 (1e-6). The step
     * follows docs/diagnostics.md for a smooth activation: large enough that float32 rounding of the
     * gradients stays near 1e-4 of a product, small enough that the truncation error is below it.
     */
    @Test
    void curvatureDiagnosticsAgreeWithPyTorchsExactHessian() {
        CurvatureGolden golden = CurvatureGolden.load();
        boolean float32 = relativeRounding() >= 1e-9;
        double tolerance = float32 ? 1e-3 : 1e-6;
        CurvatureOptions options = CurvatureOptions.defaults().withHRelative(float32 ? 3e-3 : 1e-4)
                .withTolerance(float32 ? 1e-5 : 1e-10).withMaxIterations(200);
        try (Network net = engine.build(golden.model(), golden.params());
                Curvature curvature = Curvature.of(net, golden.batches(), options)) {
            List<HostTensor> before = net.parameters();
            for (double[][] pair : golden.products()) {
                assertThat(relativeError(curvature.hessianVectorProduct(pair[0]), pair[1])).as("H·v").isLessThanOrEqualTo(
                        tolerance);
            }
            double lambda = curvature.lambdaMax().value();
            assertThat(Math.abs(lambda - golden.eigenvalues()[0]) / golden.eigenvalues()[0]).as("λ_max %s against %s",
                    lambda, golden.eigenvalues()[0]).isLessThanOrEqualTo(float32 ? 0.02 : 1e-6);
            double mean = 0;
            for (double[] z : golden.probes()) {
                double[] hz = curvature.hessianVectorProduct(z);
                for (int i = 0; i < z.length; i++) {
                    mean += z[i] * hz[i] / golden.probes().size();
                }
            }
            assertThat(Math.abs(mean - golden.probeMean()) / Math.abs(golden.probeMean())).as("mean zᵀHz %s against %s",
                    mean, golden.probeMean()).isLessThanOrEqualTo(tolerance);
            double oneStep = curvature.sharpness(golden.rho(), 0).oneStep();
            assertThat(Math.abs(oneStep - golden.rhoOneStep()) / golden.rhoOneStep()).as("SAM's one-step ρ-sharpness %s "
                    + "against %s", oneStep, golden.rhoOneStep()).isLessThanOrEqualTo(tolerance);
            assertThat(net.parameters()).as("the parameters afterwards").usingRecursiveFieldByFieldElementComparator()
                    .isEqualTo(before);
        }
    }

    private static double relativeError(double[] actual, double[] expected) {
        double diff = 0;
        double size = 0;
        for (int i = 0; i < expected.length; i++) {
            diff += (actual[i] - expected[i]) * (actual[i] - expected[i]);
            size += expected[i] * expected[i];
        }
        return Math.sqrt(diff / size);
    }

    // Property 1: ρ₂ = 0 gives exactly SAM with ρ = ρ₁, and leaves the validation passes out.
    @Test
    void constantZeroRho2IsExactlySamWithoutValidationPasses() {
        AgnosticSam agnostic = AgnosticSam.builder().base(sgd(0.2)).rho1(0.4).rho2(0).build();
        Sam sam = Sam.builder().base(sgd(0.2)).rho(0.4).build();
        Data data = new Data(11);
        List<HostTensor> a = train(agnostic, data, 3, r -> assertThat(r.gradientEvaluations())
                .as("Agnostic-SAM with the constant rho2 = 0 takes SAM's 2 passes").isEqualTo(2));
        List<HostTensor> b = train(sam, data, 3, r -> { });
        assertThat(a).as("property 1: Agnostic-SAM with rho2 = 0 must give exactly SAM with rho = rho1 (the same "
                + "program; a difference means the engine's results depend on something other than the ops asked for)")
                .isEqualTo(b);
    }

    @Test
    void scheduledRho2RunsTheValidationPassesEvenAtZero() {
        AgnosticSam scheduled = AgnosticSam.builder().base(sgd(0.2)).rho1(0.4).rho2(step -> 0.0).build();
        Sam sam = Sam.builder().base(sgd(0.2)).rho(0.4).build();
        Data data = new Data(12);
        List<HostTensor> a = train(scheduled, data, 3, r -> assertThat(r.gradientEvaluations())
                .as("a scheduled rho2 runs the validation passes").isEqualTo(4));
        List<HostTensor> b = train(sam, data, 3, r -> { });
        assertClose("property 1: a scheduled rho2 that is 0 gives SAM (suspect mul or div by a zero scalar, "
                + "the oracle's validation batch)", a, b, 1e3 * relativeRounding());
    }

    // Property 2: ρ₁ = ρ₂ = 0 gives the base optimizer's update.
    @Test
    void zeroRadiiGiveTheBaseOptimizer() {
        Adam adam = Adam.builder().lr(0.02).build();
        Data data = new Data(13);
        for (AgnosticSam.Variant variant : AgnosticSam.Variant.values()) {
            AgnosticSam zero = AgnosticSam.builder().base(adam).rho1(0).rho2(step -> 0.0).variant(variant).build();
            assertClose("property 2: radii 0 give the base optimizer, " + variant + " (suspect add of a zero "
                    + "perturbation, div by the norm + ε, sqrt)", train(zero, data, 3, r -> { }),
                    train(adam, data, 3, r -> { }), 1e3 * relativeRounding());
        }
    }

    // Property 3: the perturbation leaves no trace; θ becomes base.update(θ, g(θ + e)).
    @Test
    void perturbationLeavesNoTraceWhenTheLearningRateIsZero() {
        Data data = new Data(14);
        for (boolean adaptive : new boolean[] {false, true}) {
            Sgd frozen = Sgd.builder().lr(0).momentum(0.9).weightDecay(0.01).build();
            AgnosticSam opt = AgnosticSam.builder().base(frozen).rho1(0.7).rho2(0.3).adaptive(adaptive).build();
            try (Network net = build(data.init()); Training t = Training.start(net, opt)) {
                List<HostTensor> before = net.parameters(); // in the engine's precision
                for (int s = 0; s < 3; s++) {
                    t.step(data.train(s), data.validation(s));
                }
                assertThat(net.parameters()).as("property 3: with lr 0 the perturbation leaves no trace (adaptive "
                        + adaptive + "): suspect a perturbed pass that writes θ in place, or the engine storing a "
                        + "perturbed point as the parameters").isEqualTo(before);
            }
        }
    }

    @Test
    void updateUsesTheGradientAtThePerturbedPoint() {
        Data data = new Data(15);
        double lr = 0.1;
        double rho1 = 0.3;
        double rho2 = 0.1;
        AgnosticSam opt = AgnosticSam.builder().base(sgd(lr)).rho1(rho1).rho2(rho2)
                .variant(AgnosticSam.Variant.FAST).build();
        try (Network net = build(data.init())) {
            List<HostTensor> theta = net.parameters();
            Probes.Gradients gt = Probes.gradients(net, data.train(0));
            Probes.Gradients gv = Probes.gradients(net, data.validation(0));
            // e = ρ₁·gₜ/‖gₜ‖ − ρ₂·gᵥ/‖gᵥ‖, in float64 from the engine's own gradients.
            List<HostTensor> perturbed = new ArrayList<>();
            for (int p = 0; p < theta.size(); p++) {
                double[] v = theta.get(p).values().clone();
                for (int i = 0; i < v.length; i++) {
                    v[i] += rho1 * gt.grads().get(p)[i] / gt.norm() - rho2 * gv.grads().get(p)[i] / gv.norm();
                }
                perturbed.add(new HostTensor(theta.get(p).shape(), v));
            }
            net.setParameters(perturbed);
            Probes.Gradients g = Probes.gradients(net, data.train(0));
            net.setParameters(theta);
            try (Training t = Training.start(net, opt)) {
                t.step(data.train(0), data.validation(0));
            }
            List<HostTensor> after = net.parameters();
            for (int p = 0; p < theta.size(); p++) {
                for (int i = 0; i < theta.get(p).size(); i++) {
                    double expectedDelta = -lr * g.grads().get(p)[i];
                    double actualDelta = after.get(p).values()[i] - theta.get(p).values()[i];
                    assertThat(actualDelta).as("property 3: the update uses the gradient at θ + e, parameter %d element "
                            + "%d (suspect the oracle's batch for the last pass, or the values it was handed)", p, i)
                            .isCloseTo(expectedDelta, within(10 * relativeRounding() + 1e-3 * Math.abs(expectedDelta)));
                }
            }
        }
    }

    // Property 4: ‖D‖ = 1 for a non-zero gradient, D(0) = 0, |ρ₁ − ρ₂| ≤ ‖e‖ ≤ ρ₁ + ρ₂.
    @Test
    void plainDirectionHasUnitNormAndZeroForAZeroGradient() {
        Data data = new Data(16);
        double rho1 = 0.3;
        double rho2 = 0.2;
        try (Network net = build(data.init())) {
            for (int s = 0; s < 3; s++) {
                double[] norms = Probes.ascentNorms(net, data.train(s), data.validation(s), false, 0, rho1, rho2);
                // ‖D‖ = ‖g‖/(‖g‖ + ε): 1 up to rounding and the ε guard.
                double smallest = Math.min(Probes.gradients(net, data.train(s)).norm(),
                        Probes.gradients(net, data.validation(s)).norm());
                double allowance = relativeRounding() + Ascent.EPSILON / smallest;
                assertThat(norms[0]).as("property 4: ‖D(g)‖ = 1 (suspect sumOfSquares, sqrt, div)")
                        .isCloseTo(1.0, within(allowance));
                assertThat(norms[1]).as("property 4: D(0) = 0 (suspect div, the ε guard)").isEqualTo(0.0);
                assertThat(norms[2]).as("property 4: |rho1 − rho2| ≤ ‖e‖ ≤ rho1 + rho2 (suspect sub, the validation "
                        + "batch)").isBetween(Math.abs(rho1 - rho2) * (1 - allowance), (rho1 + rho2) * (1 + allowance));
            }
            double[] adaptive = Probes.ascentNorms(net, data.train(0), data.validation(0), true, 0.01, rho1, rho2);
            assertThat(adaptive[1]).as("property 4: adaptive D of a zero gradient is 0 (suspect abs, mul, div)")
                    .isEqualTo(0.0);
        }
    }

    // Property 5: L(θ + e) − L(θ) = ‖gₜ‖·(ρ₁ − ρ₂·cos∠(gₜ, gᵥ)) to first order.
    @Test
    void firstOrderChangeOfTheTrainLoss() {
        Data data = new Data(17);
        double rho1 = 2e-3;
        double rho2 = 1e-3;
        AgnosticSam opt = AgnosticSam.builder().base(sgd(0)).rho1(rho1).rho2(rho2)
                .variant(AgnosticSam.Variant.FAST).build();
        try (Network net = build(data.init())) {
            for (int s = 0; s < 3; s++) {
                Probes.Gradients gt = Probes.gradients(net, data.train(s));
                Probes.Gradients gv = Probes.gradients(net, data.validation(s));
                double cos = Probes.Gradients.dot(gt, gv) / (gt.norm() * gv.norm());
                double predicted = gt.norm() * (rho1 - rho2 * cos);
                double[] losses;
                try (Training t = Training.start(net, opt)) {
                    losses = t.step(data.train(s), data.validation(s)).passLosses();
                }
                double measured = losses[2] - losses[0];
                assertThat(Math.abs(measured - predicted) / Math.abs(predicted)).as("property 5: first-order change of "
                        + "the train loss, batch %d: measured %s, predicted %s (suspect the sign of the validation "
                        + "term, the batch of each pass)", s, measured, predicted).isLessThanOrEqualTo(5e-3);
            }
        }
    }

    // The bad-value rule.
    @Test
    void nanInTheTrainBatchThrowsAndChangesNothing() {
        Data data = new Data(18);
        AgnosticSam opt = AgnosticSam.builder().base(Adam.builder().lr(0.01).build()).rho1(0.2).rho2(0.1).build();
        try (Network net = build(data.init()); Training t = Training.start(net, opt)) {
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
    void infinityInTheValidationBatchIsSkippedAndCounted() {
        Data data = new Data(19);
        Sgd base = Sgd.builder().lr(0.1).momentum(0.9).build();
        AgnosticSam opt = AgnosticSam.builder().base(base).rho1(0.2).rho2(0.1).build();
        try (Network net = build(data.init()); Training t = Training.start(net, opt, BadValuePolicy.SKIP)) {
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
    void nanOrInfinityInEitherBatchChangesNothingUnderThrowAndSkip() {
        ModelSpec model = statisticsModel();
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
    void aFiniteLossWithOneNonFiniteGradientElementChangesNothing() {
        // One huge input value with no path to the logits (its column of W0 is 0) and steep later
        // layers: the loss stays finite while ∂loss/∂W0 = δ·x overflows in the engine's precision
        // (tried in float32 first, then in float64).
        List<HostTensor> steep = steepParameters(RELU_MODEL.initialParameters(24));
        for (double huge : new double[] {3.0e38, 1.7e308}) {
            Data data = new Data(24);
            try (Network net = build(RELU_MODEL, steep)) {
                Probes.Gradients g = Probes.gradients(net, hugeInput(data.train(1), huge));
                boolean overflows = g.grads().stream().flatMapToDouble(java.util.Arrays::stream)
                        .anyMatch(v -> !Double.isFinite(v));
                if (!Double.isFinite(g.loss()) || !overflows) {
                    continue; // not this precision
                }
            }
            for (BadValuePolicy policy : BadValuePolicy.values()) {
                assertStepChangesNothing("a non-finite gradient element with a finite loss under " + policy, policy,
                        RELU_MODEL, steep, (d, s) -> new Batch[] {hugeInput(d.train(s), huge), d.validation(s)},
                        adamAgnosticSam(), "pass 1 (train) gradient of parameter W0",
                        EngineConformanceTest::cutFirstInput); // the good step moved W0's first column

            }
            return;
        }
        throw new AssertionError("found no input value whose gradient overflows while the loss stays finite: suspect "
                + "the oracle's loss and gradients on " + RELU_MODEL + " (read back through a probe step's summary)");
    }

    @Test
    void anUpdateThatOverflowsChangesNothing() {
        // Every hyperparameter is one float32 holds; what overflows is the update of one weight that
        // no input reaches: W0's first column, set to a huge finite value after the first step, while
        // every bad batch has 0 as its first input. Its gradient is exactly 0 and the loss does not see
        // it, but weight decay makes lr·λ·θ = 1e4·1e5·θ overflow (θ = 1e300 in float64, 1e30 in float32).
        double huge = float64() ? 1e300 : 1e30;
        Sgd sgd = Sgd.builder().lr(step -> step == 0 ? 0 : 1e4).momentum(0.9).weightDecay(1e5).build();
        ModelSpec model = statisticsModel();
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
    void aSkippedStepNamesTheLastParameterWhenOnlyItWentBad() {
        double huge = float64() ? 1e300 : 1e30;
        Data data = new Data(27);
        List<HostTensor> init = new ArrayList<>(data.init());
        int last = init.size() - 1;
        HostTensor bias = init.get(last).copy();
        bias.values()[0] = huge;
        init.set(last, bias);
        Sgd sgd = Sgd.builder().lr(1e4).weightDecay(1e5).build();
        try (Network net = build(init); Training t = Training.start(net, sgd, BadValuePolicy.SKIP)) {
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

    // Input checks of setParameters and of Training.step, the same on every engine.

    @Test
    void setParametersRefusesNonFiniteValuesAndWrongShapesAndKeepsTheOldOnes() {
        Data data = new Data(26);
        try (Network net = build(data.init())) {
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
    void aSecondThreadEnteringStepFailsFastAndTheRunningStepIsUndisturbed() throws Exception {
        Data data = new Data(27);
        HeldStep held = new HeldStep();
        Sgd blocking = Sgd.builder().lr(held.lr(0.1)).build();
        try (Network net = build(data.init()); Training t = Training.start(net, blocking)) {
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

    @Test
    void theScheduleCountsEveryStepAndAdamCountsAppliedSteps() {
        Data data = new Data(22);
        List<Long> seen = new ArrayList<>();
        Sgd scheduled = Sgd.builder().lr(step -> {
            seen.add(step);
            return 0.1;
        }).build();
        try (Network net = build(MODEL, data.init());
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
    void adamAfterASkippedStepGoesOnAsIfItHadNotHappened() {
        // Adam's bias corrections count applied steps: [good, NaN, good] must equal [good, good].
        Data data = new Data(27);
        Adam adam = Adam.builder().lr(0.05).build();
        try (Network skipped = build(data.init()); Training a = Training.start(skipped, adam, BadValuePolicy.SKIP);
                Network straight = build(data.init()); Training b = Training.start(straight, adam, BadValuePolicy.SKIP)) {
            a.step(data.train(0));
            assertThat(a.step(poison(data.train(1), Double.NaN)).applied()).as("the NaN step is skipped").isFalse();
            a.step(data.train(2));
            b.step(data.train(0));
            b.step(data.train(2));
            assertClose("Adam after a skipped step: its step count (bias corrections) must not advance on a skipped "
                    + "step (suspect the engine's use of the scalar inputs)", skipped.parameters(), straight.parameters(),
                    10 * relativeRounding());
        }
    }

    private void assertStepChangesNothing(String what, BadValuePolicy policy, ModelSpec model, List<HostTensor> init,
            java.util.function.BiFunction<Data, Integer, Batch[]> badBatches, Optimizer optimizer, String reason) {
        assertStepChangesNothing(what, policy, model, init, badBatches, optimizer, reason, p -> p);
    }

    /**
     * Runs one good step, adjusts the parameters, then runs a bad step and checks that it changed
     * nothing.
     */
    private void assertStepChangesNothing(String what, BadValuePolicy policy, ModelSpec model, List<HostTensor> init,
            java.util.function.BiFunction<Data, Integer, Batch[]> badBatches, Optimizer optimizer, String reason,
            java.util.function.UnaryOperator<List<HostTensor>> afterGoodStep) {
        Data data = new Data(23);
        try (Network net = build(model, init); Training t = Training.start(net, optimizer, policy)) {
            assertThat(t.step(data.train(0), data.validation(0)).applied()).as(what + ": the first, good step").isTrue();
            net.setParameters(afterGoodStep.apply(net.parameters()));
            List<HostTensor> params = net.parameters();
            List<HostTensor> state = t.optimizerState();
            List<HostTensor> statistics = net.runningStatistics();
            Batch[] bad = badBatches.apply(data, 1);
            StepResult r;
            if (policy == BadValuePolicy.THROW) {
                Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(() -> t.step(bad[0], bad[1]));
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

    /** The BatchNorm MLP when the engine builds it, so that running statistics are checked too. */
    private ModelSpec statisticsModel() {
        try (Network ignored = engine.build(BN_MODEL, BN_MODEL.initialParameters(0))) {
            return BN_MODEL;
        } catch (UnsupportedFeatureException e) {
            return MODEL;
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

    private boolean float64() {
        return relativeRounding() < 1e-9;
    }

    // Running statistics and evaluation.

    @Test
    void onlyTheCleanTrainPassMovesTheRunningStatistics() {
        // Every step runs the same clean pass on the train batch at θ first, so from the same θ and
        // statistics the running statistics after a step of SAM or Agnostic-SAM are those after a
        // step of the base optimizer, whose only pass that is.
        ModelSpec model = statisticsModel();
        Assumptions.assumeTrue(model == BN_MODEL, "engine does not build " + BN_MODEL);
        Data data = new Data(27);
        List<HostTensor> init = BN_MODEL.initialParameters(27);
        List<HostTensor> base;
        try (Network net = build(BN_MODEL, init); Training t = Training.start(net, sgd(0.1))) {
            t.step(data.train(0));
            base = net.runningStatistics();
        }
        assertThat(base).as("running statistics after one step of SGD: the clean train pass must move them")
                .isNotEqualTo(BN_MODEL.initialStatistics());
        List<Optimizer> optimizers = List.of(Sam.builder().base(sgd(0.1)).rho(0.5).build(),
                AgnosticSam.builder().base(sgd(0.1)).rho1(0.5).rho2(0.2).build(),
                AgnosticSam.builder().base(sgd(0.1)).rho1(0.5).rho2(0.2).variant(AgnosticSam.Variant.FAST).build());
        for (Optimizer optimizer : optimizers) {
            try (Network net = build(BN_MODEL, init); Training t = Training.start(net, optimizer)) {
                if (t.program().usesValidationBatch()) {
                    t.step(data.train(0), data.validation(0));
                } else {
                    t.step(data.train(0));
                }
                List<HostTensor> statistics = net.runningStatistics();
                for (int i = 0; i < base.size(); i++) {
                    double[] expected = base.get(i).values();
                    double[] actual = statistics.get(i).values();
                    for (int j = 0; j < expected.length; j++) {
                        double allowance = 100 * relativeRounding() * Math.max(1, Math.abs(expected[j]));
                        assertThat(actual[j]).as("running statistic %s element %d after one step of %s: it must be "
                                + "what the clean train pass (Pass.TRAIN) left, as after one step of the base "
                                + "optimizer (suspect a perturbed or validation pass that moves running statistics: "
                                + "the oracle must honour Pass.updatesRunningStatistics())",
                                BN_MODEL.statisticNames().get(i), j, optimizer)
                                .isCloseTo(expected[j], within(allowance));
                    }
                }
            }
        }
    }

    @Test
    void evaluationAgreesWithTheGradientOracle() {
        // Without BatchNorm, evaluation computes the logits as training does, so evaluate() reports
        // the loss the gradient oracle reports on the same batch at the same parameters. And with one
        // example and no label smoothing, the oracle's gradient of the last bias is
        // softmax(logits) − onehot(label): the probabilities, whose argmax says whether the
        // example is predicted right.
        Data data = new Data(31); // 4 of these 8 examples are predicted right at the initial parameters
        Batch batch = firstExamples(data.train(0), 8);
        double tolerance = 100 * relativeRounding();
        try (Network net = build(MODEL, data.init())) {
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
                if (margin(probabilities) > 1e3 * relativeRounding()) { // else a near tie: either answer is right
                    int right = predicted == label ? 1 : 0;
                    expectedCorrect += right;
                    assertThat(e.correct()).as("evaluate(example %d alone).correct: label %d, probabilities %s from "
                            + "the oracle's gradient of the last bias, predicted %d (suspect Network.evaluate's "
                            + "argmax, or the labels it reads)", i, label, java.util.Arrays.toString(probabilities),
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
        return new Batch(HostTensor.of(java.util.Arrays.copyOf(batch.features().values(), n * width), n, width),
                java.util.Arrays.copyOf(batch.labels(), n));
    }

    /** Example {@code i} of the batch, as a batch of one. */
    private static Batch example(Batch batch, int i) {
        int width = batch.features().size() / batch.size();
        double[] x = java.util.Arrays.copyOfRange(batch.features().values(), i * width, (i + 1) * width);
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
        java.util.Arrays.sort(sorted);
        return sorted[sorted.length - 1] - sorted[sorted.length - 2];
    }

    // Model descriptions: what the engine builds, against the reference engine's float64 model of
    // the same description (checked against PyTorch in the kit's own tests).

    @TestFactory
    Stream<DynamicTest> theStandardModelsBuild() {
        return ModelSpec.STANDARD.stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            ModelSpec spec = ModelSpec.standard(name);
            Batch batch = SyntheticBatches.learnable(spec, 3, new SplittableRandom(1));
            try (Network net = build(spec, spec.initialParameters(3)); Network ref = referenceOf(net)) {
                assertThat(net.model()).as("%s: Network.model()", name).isEqualTo(spec);
                assertThat(net.parameters()).as("%s: parameter shapes, as ModelSpec.parameterShapes()", name)
                        .extracting(HostTensor::shape).containsExactlyElementsOf(spec.parameterShapes());
                assertThat(net.runningStatistics()).as("%s: running statistics of a new network, as "
                        + "ModelSpec.initialStatistics() (means 0, variances 1)", name).isEqualTo(spec.initialStatistics());
                double loss = net.evaluate(batch).loss();
                assertThat(loss).as("%s: evaluate() at the initial parameters: near ln(classes) (suspect the "
                        + "model's layers or the initial parameters as stored)", name)
                        .isCloseTo(Math.log(spec.classes()), within(0.5));
                assertLossAgrees(name + ": evaluate() against the reference engine's at the same parameters (suspect "
                        + "the model's layout: weight shapes [out, in], the flatten order, the layers)", loss,
                        ref.evaluate(batch).loss());
            }
        }));
    }

    @Test
    void theBatchNormMlpStoresItsParametersAndStartsAtTheInitialStatistics() {
        List<HostTensor> init = BN_MODEL.initialParameters(7);
        try (Network net = build(BN_MODEL, init)) {
            assertThat(net.model()).as("Network.model()").isEqualTo(BN_MODEL);
            assertStoredInTheEnginesPrecision(BN_MODEL, net.parameters(), init);
            assertThat(net.runningStatistics()).as("running statistics of a new network: means 0 and variances 1, "
                    + "as torch's BatchNorm1d, in ModelSpec.statisticNames() order").isEqualTo(BN_MODEL.initialStatistics());
        }
    }

    @Test
    void oneCleanStepMovesTheRunningStatisticsAsTheReferenceEngine() {
        Data data = new Data(28);
        try (Network net = build(BN_MODEL, BN_MODEL.initialParameters(28)); Network ref = referenceOf(net);
                Training t = Training.start(net, sgd(0)); Training r = Training.start(ref, sgd(0))) {
            List<HostTensor> params = net.parameters();
            t.step(data.train(0));
            r.step(data.train(0));
            assertThat(net.parameters()).as("parameters after a step with lr 0").isEqualTo(params);
            assertStatisticsAgree("after one step: momentum 0.1, the batch's mean and unbiased variance of each "
                    + "BatchNorm layer's input (suspect the engine's BatchNorm in training mode: momentum, the "
                    + "variance's correction, the order of the statistics)", net, ref);
        }
    }

    @Test
    void evaluationUsesTheRunningStatisticsAndLeavesThem() {
        // lr 0: the parameters stay as built, so that the reference engine's statistics follow the
        // engine's step by step; the perturbed and validation passes must not move them.
        Data data = new Data(29);
        Optimizer statisticsOnly = AgnosticSam.builder().base(Sgd.builder().lr(0).momentum(0.9).build())
                .rho1(0.1).rho2(0.05).build();
        Batch test = data.train(3);
        try (Network net = build(BN_MODEL, BN_MODEL.initialParameters(29)); Network ref = referenceOf(net);
                Training t = Training.start(net, statisticsOnly); Training r = Training.start(ref, statisticsOnly)) {
            for (int s = 0; s < 3; s++) {
                t.step(data.train(s), data.validation(s));
                r.step(data.train(s), data.validation(s));
            }
            assertStatisticsAgree("after three steps of Agnostic-SAM", net, ref);
            double expected = ref.evaluate(test).loss();
            double batchStatistics = Probes.gradients(ref, test).loss(); // training mode
            assertThat(Math.abs(expected - batchStatistics)).as("the kit's own check: on this batch, the loss with the "
                    + "running statistics differs from the loss with the batch's statistics").isGreaterThan(1e-3);
            List<HostTensor> params = net.parameters();
            List<HostTensor> statistics = net.runningStatistics();
            assertLossAgrees("evaluate() on the BatchNorm MLP against the reference engine's: evaluation mode "
                    + "normalises with the running statistics, not the batch's (suspect Network.evaluate's BatchNorm "
                    + "mode)", net.evaluate(test).loss(), expected);
            assertThat(net.runningStatistics()).as("running statistics after evaluate(): bit-identical (suspect "
                    + "Network.evaluate running BatchNorm in training mode)").isEqualTo(statistics);
            assertThat(net.parameters()).as("parameters after evaluate(): bit-identical").isEqualTo(params);
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
        Batch batch = SyntheticBatches.learnable(SMALL_CNN, 10, new SplittableRandom(6));
        try (Network net = build(SMALL_CNN, init); Network ref = referenceOf(net)) {
            assertStoredInTheEnginesPrecision(SMALL_CNN, net.parameters(), init);
            double expected = ref.evaluate(batch).loss();
            assertThat(expected).as("the kit's own check: the reference loss is far from ln(classes)")
                    .isNotCloseTo(Math.log(SMALL_CNN.classes()), within(0.05));
            assertLossAgrees(SMALL_CNN + ": evaluate() against the reference engine's at the same parameters "
                    + "(suspect the layout: convolution weights [out, in, 5, 5], padding 2, max-pooling 2, the "
                    + "flatten order (C, H, W) before the dense layer [classes, flattened])",
                    net.evaluate(batch).loss(), expected);
            assertThat(net.runningStatistics()).as("running statistics of a CNN (it has none)").isEmpty();
        }
    }

    @Test
    void theBatchNormMlpLearns() {
        assertLearns(BN_MODEL, AgnosticSam.builder().base(Sgd.builder().lr(0.05).momentum(0.9).build())
                .rho1(0.1).rho2(0.05).build(), 30);
    }

    @Test
    void theSmallCnnLearns() {
        // It starts on a plateau (small signals through two ReLU convolutions); Adam leaves it quickly.
        assertLearns(SMALL_CNN, AgnosticSam.builder().base(Adam.builder().lr(0.02).build()).rho1(0.1).rho2(0.05)
                .build(), 40);
    }

    /** Memorising one batch of {@link SyntheticBatches}: the loss halves within {@code steps} steps. */
    private void assertLearns(ModelSpec model, Optimizer optimizer, int steps) {
        SplittableRandom random = new SplittableRandom(5);
        Batch train = SyntheticBatches.learnable(model, 32, random);
        try (Network net = build(model, model.initialParameters(1)); Training t = Training.start(net, optimizer)) {
            double first = t.step(train, SyntheticBatches.learnable(model, 8, random)).loss();
            double last = first;
            for (int s = 0; s < steps; s++) {
                last = t.step(train, SyntheticBatches.learnable(model, 8, random)).loss();
            }
            assertThat(last).as("%s memorising one batch of 32 in %d steps: the loss must halve (suspect the "
                    + "gradients of the model's layers)", model, steps).isLessThan(first * 0.5);
        }
    }

    /** The reference engine's network of the same model, at the engine's parameters as stored. */
    private Network referenceOf(Network net) {
        return reference.build(net.model(), net.parameters());
    }

    /** Parameters as given, in the engine's precision (float64, or rounded to float32). */
    private void assertStoredInTheEnginesPrecision(ModelSpec model, List<HostTensor> stored, List<HostTensor> given) {
        assertThat(stored).as("parameters of %s", model).hasSize(given.size());
        for (int p = 0; p < given.size(); p++) {
            assertThat(stored.get(p).shape()).as("shape of parameter %s of %s", model.parameterNames().get(p), model)
                    .isEqualTo(given.get(p).shape());
            double[] v = given.get(p).values();
            for (int i = 0; i < v.length; i++) {
                assertThat(stored.get(p).values()[i]).as("parameter %s element %d of %s as stored: the value given to "
                        + "Engine.build in the engine's precision (suspect build's copy or layout)",
                        model.parameterNames().get(p), i, model).isEqualTo(float64() ? v[i] : (double) (float) v[i]);
            }
        }
    }

    private void assertStatisticsAgree(String what, Network net, Network ref) {
        List<HostTensor> actual = net.runningStatistics();
        List<HostTensor> expected = ref.runningStatistics();
        List<String> names = net.model().statisticNames();
        assertThat(actual).as("running statistics %s: one tensor each of %s", what, names).hasSize(names.size());
        for (int k = 0; k < expected.size(); k++) {
            double[] e = expected.get(k).values();
            for (int i = 0; i < e.length; i++) {
                assertThat(actual.get(k).values()[i]).as("running statistic %s element %d %s, against the reference "
                        + "engine's", names.get(k), i, what)
                        .isCloseTo(e[i], within(10 * relativeRounding() * Math.max(1, Math.abs(e[i]))));
            }
        }
    }

    private void assertLossAgrees(String what, double actual, double expected) {
        assertThat(actual).as(what).isCloseTo(expected, within(10 * relativeRounding() * Math.max(1, Math.abs(expected))));
    }

    // Lifecycle.

    @Test
    void everyUseAfterCloseIsAnIllegalStateException() {
        Data data = new Data(26);
        Batch batch = data.train(0);
        StepProgram program = StepPrograms.of(sgd(0.1));
        Network net = build(data.init());
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
        Engine other = createEngine();
        other.close();
        other.close();
        assertClosed(() -> other.build(MODEL, data.init()), "Engine.build after close", "engine");
    }

    /** The call is an IllegalStateException whose message says "<object> is closed". */
    private static void assertClosed(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String what,
            String object) {
        assertThatThrownBy(call).as(what + ": an IllegalStateException saying \"" + object + " is closed\"")
                .isInstanceOf(IllegalStateException.class).hasMessageContaining(object + " is closed");
    }

    @Test
    void isAvailableLoadsNoNativeLibrary() throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path")));
        String modulePath = System.getProperty("jdk.module.path");
        if (modulePath != null && !modulePath.isBlank()) {
            command.addAll(List.of("--module-path", modulePath, "--add-modules", "ALL-MODULE-PATH"));
        }
        command.addAll(List.of(AvailabilityProbe.class.getName(), engine.name()));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(process.waitFor()).as("the availability probe (a fresh JVM) said:%n%s", output).isZero();
        Assumptions.assumeFalse(output.startsWith("cannot tell"), output.strip());
        assertThat(output.strip()).as("native libraries that %s's isAvailable() loaded", engine.name())
                .isEqualTo("available, no native library loaded");
    }

    // Input and hyperparameter checks: a clear error, and nothing changed.
    @Test
    void aBadBatchOrScheduleValueIsRejectedBeforeAnythingChanges() {
        Data data = new Data(20);
        Sgd base = Sgd.builder().lr(step -> step == 0 ? 0.1 : -1.0).momentum(0.9).build();
        AgnosticSam opt = AgnosticSam.builder().base(base).rho1(0.2).rho2(0.1).build();
        try (Network net = build(data.init()); Training t = Training.start(net, opt)) {
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

    @Test
    void unsupportedModelsAreReportedAsUnsupported() {
        try (Network net = engine.build(new ModelSpec.Cnn(), new ModelSpec.Cnn().initialParameters(0))) {
            assertThat(net.model()).isEqualTo(new ModelSpec.Cnn());
        } catch (UnsupportedFeatureException e) {
            assertThat(e.getMessage()).isNotBlank();
        }
    }

    // Checkpoints: a run restored from a checkpoint goes on as if it had not stopped.

    /**
     * Checkpoints ({@link Training#checkpoint}, {@link Training#restore}): bit for bit on the same
     * engine, within the engines' rounding across engines, and nothing changed by a refused restore
     * or a refused {@code setState} / {@code setRunningStatistics}. On the BatchNorm MLP when the
     * engine builds it, with cosine learning rates.
     */
    @Nested
    class Checkpoints {
        /** Steps before the checkpoint, and steps after it. */
        private static final int STEPS = 3;

        @TempDir
        Path dir;

        @TestFactory
        Stream<DynamicTest> aRestoredRunGoesOnBitForBit() {
            return checkpointOptimizers().entrySet().stream().flatMap(e -> Stream.of(
                    DynamicTest.dynamicTest(e.getKey(), () -> assertResumesBitForBit(e.getKey(), e.getValue(), -1)),
                    DynamicTest.dynamicTest(e.getKey() + ", step 1 skipped", () -> assertResumesBitForBit(
                            e.getKey() + " with step 1 skipped", e.getValue(), 1))));
        }

        /**
         * Runs STEPS steps (step {@code skipped} with NaN in the train batch), a checkpoint written to
         * a file, STEPS more; then a network built with other parameters restores the file and runs
         * the same STEPS: everything must be bit-identical.
         */
        private void assertResumesBitForBit(String what, Optimizer optimizer, int skipped) {
            ModelSpec model = statisticsModel();
            Data data = new Data(40, 2 * STEPS);
            Path file = dir.resolve("run.safetensors");
            Checkpoint written;
            RunState expected;
            try (Network net = build(model, model.initialParameters(40));
                    Training t = Training.start(net, optimizer, BadValuePolicy.SKIP)) {
                for (int s = 0; s < STEPS; s++) {
                    assertThat(step(t, data, s, s == skipped).applied()).as("%s: step %d applied", what, s)
                            .isEqualTo(s != skipped);
                }
                written = checkpoint(t);
                written.write(file);
                for (int s = STEPS; s < 2 * STEPS; s++) {
                    step(t, data, s, false);
                }
                expected = RunState.of(t);
            }
            try (Network net = build(model, model.initialParameters(41));
                    Training t = Training.start(net, optimizer, BadValuePolicy.SKIP)) {
                restore(t, Checkpoint.read(file));
                assertThat(RunState.of(t)).as("%s: right after the restore, the run is the checkpoint's (suspect "
                        + "CompiledStep.setState, Network.setRunningStatistics or setParameters: values ignored, "
                        + "reordered or left out)", what).isEqualTo(RunState.of(written));
                for (int s = STEPS; s < 2 * STEPS; s++) {
                    step(t, data, s, false);
                }
                assertThat(RunState.of(t)).as("%s: %d steps after the restore, as %d steps after the checkpoint "
                        + "without a break: parameters, running statistics, optimizer state and counters "
                        + "bit-identical (suspect a step that depends on something a checkpoint does not carry, "
                        + "or a setter that rounds)", what, STEPS, STEPS).isEqualTo(expected);
            }
        }

        @Test
        void aCheckpointOfAnotherOptimizerConfigurationOrModelIsRefusedAndChangesNothing() {
            ModelSpec model = statisticsModel();
            Data data = new Data(42, STEPS + 1);
            Checkpoint written;
            try (Network net = build(model, model.initialParameters(42));
                    Training t = Training.start(net, crossEngineOptimizer(10))) {
                for (int s = 0; s < STEPS; s++) {
                    step(t, data, s, false);
                }
                written = checkpoint(t);
            }
            try (Network net = build(model, model.initialParameters(43));
                    Training t = Training.start(net, crossEngineOptimizer(20))) {
                step(t, data, STEPS, false);
                RunState before = RunState.of(t);
                assertThatThrownBy(() -> t.restore(written)).as("restoring a checkpoint of a cosine schedule over 10 "
                        + "steps into a run of one over 20").isInstanceOf(CheckpointException.class)
                        .hasMessageContaining("base.lr.totalSteps").hasMessageContaining("10").hasMessageContaining("20");
                assertThat(RunState.of(t)).as("the run after a refused restore (another optimizer configuration): "
                        + "bit-identical").isEqualTo(before);
            }
            try (Network net = build(RELU_MODEL, RELU_MODEL.initialParameters(43));
                    Training t = Training.start(net, crossEngineOptimizer(10))) {
                step(t, data, STEPS, false);
                RunState before = RunState.of(t);
                assertThatThrownBy(() -> t.restore(written)).as("restoring a checkpoint of %s into %s", model,
                        RELU_MODEL).isInstanceOf(CheckpointException.class).hasMessageContaining(model.toString())
                        .hasMessageContaining(RELU_MODEL.toString());
                assertThat(RunState.of(t)).as("the run after a refused restore (another model): bit-identical")
                        .isEqualTo(before);
            }
        }

        @Test
        void aCheckpointOfTheReferenceEngineRestoresHereAndGoesOnAsThere() {
            assertCarriesOver(reference, engine, "the reference engine's checkpoint, restored on " + engine.name());
        }

        @Test
        void aCheckpointOfThisEngineRestoresOnTheReferenceEngineAndGoesOnAsHere() {
            assertCarriesOver(engine, reference, engine.name() + "'s checkpoint, restored on the reference engine");
        }

        /**
         * STEPS steps of Agnostic-SAM with SGD momentum on {@code from}, a checkpoint written to a file,
         * STEPS more; {@code to} restores the file and runs the same steps: the same counters, and
         * values within the rounding of the engine under test.
         */
        private void assertCarriesOver(Engine from, Engine to, String what) {
            ModelSpec model = statisticsModel();
            Data data = new Data(44, 2 * STEPS);
            Path file = dir.resolve("carried.safetensors");
            Optimizer optimizer = crossEngineOptimizer(10);
            RunState expected;
            try (Network net = buildOn(from, model, model.initialParameters(44));
                    Training t = Training.start(net, optimizer)) {
                for (int s = 0; s < STEPS; s++) {
                    step(t, data, s, false);
                }
                Checkpoint written = checkpoint(t);
                assertThat(written.engine()).as("the engine a checkpoint names (Network.engineName())")
                        .isEqualTo(from.name());
                written.write(file);
                for (int s = STEPS; s < 2 * STEPS; s++) {
                    step(t, data, s, false);
                }
                expected = RunState.of(t);
            }
            try (Network net = buildOn(to, model, model.initialParameters(45)); Training t = Training.start(net, optimizer)) {
                restore(t, Checkpoint.read(file));
                for (int s = STEPS; s < 2 * STEPS; s++) {
                    step(t, data, s, false);
                }
                RunState actual = RunState.of(t);
                assertThat(actual.counters()).as("%s: steps, applied and skipped steps", what)
                        .isEqualTo(expected.counters());
                double tolerance = 10 * relativeRounding(); // djl and tensorflow differ by 1.4e-7 at most
                String suspect = what + ", " + STEPS + " steps on (suspect CompiledStep.setState, "
                        + "Network.setRunningStatistics, or the precision of the values set)";
                assertClose(suspect + ": parameters", actual.parameters(), expected.parameters(), tolerance);
                assertClose(suspect + ": running statistics", actual.statistics(), expected.statistics(), tolerance);
                assertClose(suspect + ": optimizer state", actual.state(), expected.state(), tolerance);
            }
        }

        @Test
        void setStateRefusesAWrongShapeANanOrAWrongCountNamingTheTensorAndChangesNothing() {
            Data data = new Data(46);
            StepProgram program = StepPrograms.of(Adam.builder().lr(0.01).build());
            try (Network net = build(data.init()); CompiledStep step = net.compile(program)) {
                step.run(data.train(0), null, program.scalars(0)).read();
                List<HostTensor> before = supported(step::state);
                List<String> names = StateSlot.names(program.state(MODEL.parameterShapes()));
                assertRefusedAndNothingChanged(step::setState, step::state, "optimizer-state", names, before);
            }
        }

        @Test
        void setRunningStatisticsRefusesAWrongShapeANanOrAWrongCountNamingTheTensorAndChangesNothing() {
            Assumptions.assumeTrue(statisticsModel() == BN_MODEL, "engine does not build " + BN_MODEL);
            Data data = new Data(47);
            try (Network net = build(BN_MODEL, BN_MODEL.initialParameters(47)); Training t = Training.start(net, sgd(0.1))) {
                t.step(data.train(0));
                assertRefusedAndNothingChanged(net::setRunningStatistics, net::runningStatistics, "running statistic",
                        BN_MODEL.statisticNames(), net.runningStatistics());
            }
        }

        /**
         * New values that differ from {@code before} in every tensor, with a NaN in the last, a wrong
         * shape or one tensor too few, are refused naming the tensor, and change nothing; then the new
         * values without the NaN are set and read back exactly.
         */
        private void assertRefusedAndNothingChanged(java.util.function.Consumer<List<HostTensor>> set,
                java.util.function.Supplier<List<HostTensor>> get, String kind, List<String> names,
                List<HostTensor> before) {
            int last = before.size() - 1;
            assertThat(last).as("the kit's own check: %s tensors to set", kind).isPositive();
            List<HostTensor> good = new ArrayList<>();
            for (int i = 0; i < before.size(); i++) {
                double[] v = new double[before.get(i).size()];
                for (int j = 0; j < v.length; j++) {
                    v[j] = (1 + i + j % 7) / 8.0; // exact in float32, unlike what a step leaves
                }
                good.add(new HostTensor(before.get(i).shape(), v));
            }
            List<HostTensor> nan = new ArrayList<>(good);
            nan.set(last, good.get(last).copy());
            nan.get(last).values()[2] = Double.NaN;
            List<HostTensor> wrongShape = new ArrayList<>(good);
            wrongShape.set(1, HostTensor.zeros(before.get(1).size() + 1));
            String method = kind.equals("running statistic") ? "setRunningStatistics" : "setState";
            supported(() -> {
                set.accept(before); // the values it has: aborted here when the engine cannot set them
                return null;
            });
            assertThatThrownBy(() -> set.accept(nan)).as("%s with NaN in %s, after new values in the others", method,
                    names.get(last)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(kind + " " + names.get(last)).hasMessageContaining("element 2")
                    .hasMessageContaining("NaN");
            assertThatThrownBy(() -> set.accept(wrongShape)).as("%s with %s of a wrong shape", method, names.get(1))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(kind + " " + names.get(1))
                    .hasMessageContaining(java.util.Arrays.toString(before.get(1).shape()))
                    .hasMessageContaining("[" + (before.get(1).size() + 1) + "]");
            assertThatThrownBy(() -> set.accept(good.subList(0, last))).as("%s with one tensor too few", method)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(kind + " tensors, got " + last);
            assertThat(get.get()).as("%s values after refused %s calls: bit-identical (suspect a setter that stores "
                    + "the tensors before the one it refuses)", kind, method).isEqualTo(before);
            set.accept(good);
            assertThat(get.get()).as("%s values after %s: the values set (suspect %s: values ignored, reordered or "
                    + "left out)", kind, method, method).isEqualTo(good);
        }

        /** SGD with momentum, SGD's and Adam's state under SAM and Agnostic-SAM: every kind of state. */
        private Map<String, Optimizer> checkpointOptimizers() {
            Sgd sgd = Sgd.builder().lr(Schedule.cosine(0.1, 10)).momentum(0.9).build();
            Adam adam = Adam.builder().lr(Schedule.cosine(0.02, 10)).build();
            Map<String, Optimizer> out = new java.util.LinkedHashMap<>();
            out.put("SGD with momentum", sgd);
            out.put("Adam", adam);
            out.put("SAM over SGD with momentum", Sam.builder().base(sgd).rho(0.1).build());
            out.put("Agnostic-SAM EXACT over Adam", AgnosticSam.builder().base(adam).rho1(0.2).rho2(0.1).build());
            out.put("Agnostic-SAM FAST over SGD with momentum", AgnosticSam.builder().base(sgd).rho1(0.2).rho2(0.1)
                    .variant(AgnosticSam.Variant.FAST).build());
            return out;
        }

        private Optimizer crossEngineOptimizer(long totalSteps) {
            return AgnosticSam.builder().base(Sgd.builder().lr(Schedule.cosine(0.05, totalSteps)).momentum(0.9).build())
                    .rho1(0.1).rho2(0.05).build();
        }

        /** Step {@code s} of the data, with NaN in the train batch when {@code poisoned}. */
        private StepResult step(Training t, Data data, int s, boolean poisoned) {
            Batch train = poisoned ? poison(data.train(s), Double.NaN) : data.train(s);
            return t.program().usesValidationBatch() ? t.step(train, data.validation(s)) : t.step(train);
        }

        private Checkpoint checkpoint(Training t) {
            return supported(t::checkpoint);
        }

        private void restore(Training t, Checkpoint checkpoint) {
            supported(() -> {
                t.restore(checkpoint);
                return null;
            });
        }

        /** The call's result; aborted, not failed, when the engine does not support checkpoints. */
        private <R> R supported(java.util.function.Supplier<R> call) {
            try {
                return call.get();
            } catch (UnsupportedFeatureException e) {
                Assumptions.abort("engine does not support checkpoints: " + e.getMessage());
                throw e;
            }
        }

        private Network buildOn(Engine on, ModelSpec model, List<HostTensor> init) {
            return on == engine ? build(model, init) : on.build(model, init);
        }
    }

    /** Everything the next step of a run depends on. */
    private record RunState(List<HostTensor> parameters, List<HostTensor> statistics, List<HostTensor> state,
            List<Long> counters) {
        static RunState of(Training t) {
            return new RunState(t.network().parameters(), t.network().runningStatistics(), t.optimizerState(),
                    List.of(t.steps(), t.appliedSteps(), t.skippedSteps()));
        }

        static RunState of(Checkpoint c) {
            return new RunState(c.parameters(), c.runningStatistics(), c.optimizerState(),
                    List.of(c.steps(), c.appliedSteps(), c.skippedSteps()));
        }
    }

    // Helpers.

    private static Sgd sgd(double lr) {
        return Sgd.builder().lr(lr).build();
    }

    private Network build(List<HostTensor> init) {
        return build(MODEL, init);
    }

    private Network build(ModelSpec model, List<HostTensor> init) {
        try {
            return engine.build(model, init);
        } catch (UnsupportedFeatureException e) {
            Assumptions.abort("engine does not build " + model + ": " + e.getMessage());
            throw e;
        }
    }

    /** Trains from the data's initial parameters and returns the parameters after {@code steps}. */
    private List<HostTensor> train(Optimizer opt, Data data, int steps, java.util.function.Consumer<StepResult> check) {
        try (Network net = build(data.init()); Training t = Training.start(net, opt)) {
            for (int s = 0; s < steps; s++) {
                StepResult r = t.program().usesValidationBatch() ? t.step(data.train(s), data.validation(s))
                        : t.step(data.train(s));
                check.accept(r);
            }
            return net.parameters();
        }
    }

    private static void assertClose(String what, List<HostTensor> actual, List<HostTensor> expected, double tolerance) {
        assertThat(actual).as("%s: tensors", what).hasSameSizeAs(expected);
        for (int p = 0; p < expected.size(); p++) {
            double[] a = actual.get(p).values();
            double[] e = expected.get(p).values();
            for (int i = 0; i < e.length; i++) {
                assertThat(a[i]).as("%s: tensor %d element %d", what, p, i)
                        .isCloseTo(e[i], within(tolerance * Math.max(1, Math.abs(e[i]))));
            }
        }
    }

    private static Batch poison(Batch batch, double value) {
        double[] x = batch.features().values().clone();
        x[x.length / 2] = value;
        return new Batch(new HostTensor(batch.features().shape(), x), batch.labels());
    }

    /** Seeded initial parameters and batches (16 train, 4 validation examples a step). */
    private static final class Data {
        private final long seed;
        private final List<Batch> train = new ArrayList<>();
        private final List<Batch> validation = new ArrayList<>();

        Data(long seed) {
            this(seed, 4);
        }

        /** Batches for {@code steps} steps; the first four are those of {@code new Data(seed)}. */
        Data(long seed, int steps) {
            this.seed = seed;
            SplittableRandom random = new SplittableRandom(seed);
            for (int s = 0; s < steps; s++) {
                train.add(batch(random, 16));
                validation.add(batch(random, 4));
            }
        }

        private static Batch batch(SplittableRandom random, int n) {
            double[] x = new double[n * 6];
            for (int i = 0; i < x.length; i++) {
                x[i] = random.nextDouble(-2, 2);
            }
            int[] y = new int[n];
            for (int i = 0; i < n; i++) {
                y[i] = random.nextInt(4);
            }
            return new Batch(HostTensor.of(x, n, 6), y);
        }

        List<HostTensor> init() {
            return MODEL.initialParameters(seed);
        }

        Batch train(int step) {
            return train.get(step);
        }

        Batch validation(int step) {
            return validation.get(step);
        }
    }
}
