package io.github.agnosticsam.conformance.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.agnosticsam.diagnostics.Curvature;
import io.github.agnosticsam.diagnostics.CurvatureOptions;
import io.github.agnosticsam.diagnostics.Eigenvalue;
import io.github.agnosticsam.diagnostics.Sharpness;
import io.github.agnosticsam.diagnostics.Trace;
import io.github.agnosticsam.model.Activation;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.Sgd;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.training.Training;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The curvature diagnostics on the float64 reference engine against numbers computed apart from
 * them: the full Hessian of a small tanh MLP by central differences of the reference math's
 * gradients, its eigenvalues by Jacobi rotations ({@link ExactHessian}). With a small step
 * (hRelative 1e-5) the diagnostics must agree to 1e-6; the default step's error is measured in
 * {@link CurvatureStepErrorTest}.
 */
class CurvatureOnReferenceTest {
    private static final ModelSpec.Mlp TANH = new ModelSpec.Mlp(new int[] {4, 5, 3}, Activation.TANH, 0.0);
    private static final ModelSpec.Mlp TANH_BN = new ModelSpec.Mlp(new int[] {4, 5, 3}, Activation.TANH, 0.0, true);
    private static final ModelSpec.Mlp RELU_BN = new ModelSpec.Mlp(new int[] {4, 6, 3}, Activation.RELU, 0.0, true);
    private static final CurvatureOptions EXACT = CurvatureOptions.defaults().withHRelative(1e-5).withTolerance(1e-12)
            .withMaxIterations(5000).withSeed(11);

    /** Two batches of different sizes: the loss is their size-weighted mean. */
    private static List<Batch> batches(ModelSpec spec) {
        return List.of(HostModelGradientTest.batch(spec, 6, 21), HostModelGradientTest.batch(spec, 4, 22));
    }

    private static List<HostTensor> start(ModelSpec.Mlp spec) {
        return HostModelGradientTest.trainedLooking(spec, 5);
    }

    @Test
    void theJacobiSolverRecoversAKnownSpectrum() {
        double[] spectrum = {4, -2.5, 1, 0.5, -0.1};
        double[] u = {1, -2, 0.5, 3, -1};
        double uu = ExactHessian.dot(u, u);
        double[][] a = new double[5][5];
        for (int i = 0; i < 5; i++) {
            for (int j = 0; j < 5; j++) {
                for (int k = 0; k < 5; k++) {
                    double qik = (i == k ? 1 : 0) - 2 * u[i] * u[k] / uu;
                    double qjk = (j == k ? 1 : 0) - 2 * u[j] * u[k] / uu;
                    a[i][j] += qik * spectrum[k] * qjk;
                }
            }
        }
        double[] got = ExactHessian.eigenvalues(a);
        for (int i = 0; i < 5; i++) {
            assertThat(got[i]).isCloseTo(spectrum[i], within(1e-12));
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void lambdaMaxAndTheTopTwoMatchTheExactHessian(boolean batchNorm) {
        ModelSpec.Mlp spec = batchNorm ? TANH_BN : TANH;
        double[] theta = ExactHessian.flat(start(spec));
        double[] asymmetry = new double[1];
        double[][] h = ExactHessian.of(spec, theta, batches(spec), asymmetry);
        assertThat(asymmetry[0]).as("the finite-difference Hessian's own asymmetry").isLessThan(1e-8);
        double[] exact = ExactHessian.eigenvalues(h);
        assertTopTwo(EXACT, spec, exact);
    }

    /** Lanczos (lambdaMax, largestEigenvalues): the two largest eigenvalues, algebraically. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void lanczosFindsTheTwoLargestEigenvaluesOfTheExactHessian(boolean batchNorm) {
        ModelSpec.Mlp spec = batchNorm ? TANH_BN : TANH;
        double[] exact = ExactHessian.eigenvalues(ExactHessian.of(spec, ExactHessian.flat(start(spec)), batches(spec),
                null));
        double[] ascending = exact.clone();
        java.util.Arrays.sort(ascending);
        try (Network net = new ReferenceNetwork(spec, start(spec), false);
                Curvature c = Curvature.of(net, batches(spec), EXACT)) {
            List<Eigenvalue> top = c.largestEigenvalues(2);
            for (int j = 0; j < 2; j++) {
                double expected = ascending[ascending.length - 1 - j];
                assertThat(top.get(j).value()).as("eigenvalue %d", j).isCloseTo(expected, within(1e-6 * Math.abs(expected)));
                assertThat(top.get(j).converged()).isTrue();
            }
            assertThat(c.lambdaMax().value()).isCloseTo(ascending[ascending.length - 1],
                    within(1e-6 * Math.abs(ascending[ascending.length - 1])));
        }
    }

    /** The check above, usable on a deliberately wrong configuration. */
    private static void assertTopTwo(CurvatureOptions options, ModelSpec.Mlp spec, double[] exact) {
        try (Network net = new ReferenceNetwork(spec, start(spec), false);
                Curvature c = Curvature.of(net, batches(spec), options)) {
            List<Eigenvalue> top = c.topEigenvalues(2);
            for (int j = 0; j < 2; j++) {
                assertThat(top.get(j).value()).as("eigenvalue %d", j).isCloseTo(exact[j],
                        within(1e-6 * Math.abs(exact[j])));
                assertThat(top.get(j).converged()).isTrue();
            }
        }
    }

    /** A product rule with a too-large step (hRelative 0.5: truncation error) fails the same check. */
    @Test
    void aTooLargeStepFailsTheExactCheck() {
        double[] exact = ExactHessian.eigenvalues(ExactHessian.of(TANH, ExactHessian.flat(start(TANH)), batches(TANH),
                null));
        assertThatThrownBy(() -> assertTopTwo(EXACT.withHRelative(0.5), TANH, exact))
                .isInstanceOf(AssertionError.class).hasMessageContaining("eigenvalue 0");
    }

    @Test
    void productsMatchTheExactHessian() {
        double[] theta = ExactHessian.flat(start(TANH));
        double[][] h = ExactHessian.of(TANH, theta, batches(TANH), null);
        SplittableRandom random = new SplittableRandom(8);
        try (Network net = new ReferenceNetwork(TANH, start(TANH), false);
                Curvature c = Curvature.of(net, batches(TANH), EXACT)) {
            for (int trial = 0; trial < 3; trial++) {
                double[] v = new double[c.dimension()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = random.nextDouble(-1, 1);
                }
                double[] expected = ExactHessian.times(h, v);
                double[] got = c.hessianVectorProduct(v);
                double error = 0;
                for (int i = 0; i < v.length; i++) {
                    error = Math.max(error, Math.abs(got[i] - expected[i]));
                }
                assertThat(error).isLessThan(1e-6 * ExactHessian.norm(expected));
            }
            assertThat(c.gradientEvaluations()).isEqualTo(6);
        }
    }

    @Test
    void theTraceIsWithinThreeStandardErrorsAndEqualsTheSameProbesOnTheExactHessian() {
        double[] theta = ExactHessian.flat(start(TANH));
        double[][] h = ExactHessian.of(TANH, theta, batches(TANH), null);
        int probes = 40;
        try (Network net = new ReferenceNetwork(TANH, start(TANH), false);
                Curvature c = Curvature.of(net, batches(TANH), EXACT)) {
            Trace t = c.trace(probes);
            double[][] z = Curvature.rademacherProbes(EXACT.seed(), probes, c.dimension());
            double same = 0;
            for (double[] probe : z) {
                same += ExactHessian.dot(probe, ExactHessian.times(h, probe)) / probes;
            }
            assertThat(t.value()).isCloseTo(same, within(1e-6 * Math.abs(same)));
            assertThat(Math.abs(t.value() - ExactHessian.trace(h))).isLessThanOrEqualTo(3 * t.standardError());
            assertThat(t.standardError()).isPositive();
            assertThat(t.gradientEvaluations()).isEqualTo(2L * probes);
        }
    }

    /** For small ρ, SAM's estimate is ρ‖g‖ + ½ρ²·ĝᵀHĝ to third order; ascent never leaves the ball. */
    @Test
    void sharpnessFollowsTheSecondOrderExpansion() {
        double[] theta = ExactHessian.flat(start(TANH));
        double[][] h = ExactHessian.of(TANH, theta, batches(TANH), null);
        double[] g = ExactHessian.gradient(TANH, theta, batches(TANH));
        double gNorm = ExactHessian.norm(g);
        double[] unit = g.clone();
        for (int i = 0; i < unit.length; i++) {
            unit[i] /= gNorm;
        }
        double curvature = ExactHessian.dot(unit, ExactHessian.times(h, unit));
        try (Network net = new ReferenceNetwork(TANH, start(TANH), false);
                Curvature c = Curvature.of(net, batches(TANH))) {
            double rho = 1e-3;
            Sharpness s = c.sharpness(rho, 5);
            assertThat(s.loss()).isCloseTo(ExactHessian.loss(TANH, theta, batches(TANH)), within(1e-14));
            double secondOrder = rho * rho / 2 * curvature;
            assertThat(s.oneStep() - rho * gNorm).as("the second-order term")
                    .isCloseTo(secondOrder, within(1e-2 * Math.abs(secondOrder)));
            for (double r : new double[] {rho, 0.05, 0.5}) {
                Sharpness big = c.sharpness(r, 10);
                assertThat(big.ascent()).isGreaterThanOrEqualTo(big.oneStep());
                assertThat(big.largestRadius()).isLessThanOrEqualTo(r * (1 + 1e-12));
                assertThat(big.oneStepEvaluations()).isEqualTo(2);
                assertThat(big.gradientEvaluations()).isEqualTo(12);
            }
        }
    }

    @Test
    void theSameSeedGivesTheSameResultsOnTensorAndFlatStorage() {
        try (Network a = new ReferenceNetwork(TANH, start(TANH), false);
                Network b = new ReferenceNetwork(TANH, start(TANH), true);
                Curvature ca = Curvature.of(a, batches(TANH), CurvatureOptions.defaults().withSeed(3));
                Curvature cb = Curvature.of(b, batches(TANH), CurvatureOptions.defaults().withSeed(3))) {
            assertThat(ca.topEigenvalues(2)).isEqualTo(cb.topEigenvalues(2));
            assertThat(ca.trace(6)).isEqualTo(cb.trace(6));
            assertThat(ca.sharpness(0.05, 3)).isEqualTo(cb.sharpness(0.05, 3));
            assertThat(ca.trace(6)).isEqualTo(ca.trace(6));
        }
    }

    /**
     * BatchNorm: the diagnostics run in training mode with each batch's statistics (the exact Hessian
     * above is taken so too) and never move the running statistics; parameters come back bit for bit.
     */
    @Test
    void parametersAndRunningStatisticsAreUntouched() {
        try (Network net = new ReferenceNetwork(RELU_BN, start(RELU_BN), false)) {
            try (Training t = Training.start(net, Sgd.builder().lr(0.1).build())) {
                t.step(HostModelGradientTest.batch(RELU_BN, 8, 30)); // running statistics off their start
            }
            List<HostTensor> params = net.parameters();
            List<HostTensor> statistics = net.runningStatistics();
            assertThat(statistics).isNotEqualTo(RELU_BN.initialStatistics());
            try (Curvature c = Curvature.of(net, batches(RELU_BN))) {
                c.topEigenvalues(2);
                c.trace(3);
                c.sharpness(0.05, 2);
                c.hessianVectorProduct(new double[c.dimension()]);
                assertThat(net.parameters()).isEqualTo(params);
                assertThat(net.runningStatistics()).isEqualTo(statistics);
            }
        }
    }

    /** A batch of one example fails BatchNorm's training mode after the first batch ran at a displaced point. */
    @Test
    void aFailureMidwayLeavesParametersAndStatisticsAsTheyWere() {
        try (Network net = new ReferenceNetwork(RELU_BN, start(RELU_BN), false)) {
            List<HostTensor> params = net.parameters();
            List<HostTensor> statistics = net.runningStatistics();
            List<Batch> bad = List.of(HostModelGradientTest.batch(RELU_BN, 4, 1), HostModelGradientTest.batch(RELU_BN, 1, 2));
            try (Curvature c = Curvature.of(net, bad)) {
                assertThatThrownBy(c::lambdaMax).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("at least 2 examples");
                assertThat(c.gradientEvaluations()).isEqualTo(1);
            }
            assertThat(net.parameters()).isEqualTo(params);
            assertThat(net.runningStatistics()).isEqualTo(statistics);
        }
    }

    /** Each call reads θ at its start: one Curvature (one compiled program) serves a whole run. */
    @Test
    void oneCurvatureFollowsTheTrainingBetweenCalls() {
        List<Batch> fixed = batches(TANH);
        try (Network net = new ReferenceNetwork(TANH, start(TANH), false);
                Curvature c = Curvature.of(net, fixed, EXACT);
                Training t = Training.start(net, Sgd.builder().lr(0.5).build())) {
            for (int epoch = 0; epoch < 3; epoch++) {
                t.step(HostModelGradientTest.batch(TANH, 8, 40 + epoch));
                List<HostTensor> trained = net.parameters();
                double largest = java.util.Arrays.stream(ExactHessian.eigenvalues(ExactHessian.of(TANH,
                        ExactHessian.flat(trained), fixed, null))).max().orElseThrow(); // λ_max: the largest
                Eigenvalue e = c.lambdaMax();
                assertThat(e.value()).isCloseTo(largest, within(1e-6 * Math.abs(largest)));
                assertThat(e.residual()).isLessThan(1e-4 * Math.abs(largest));
                assertThat(net.parameters()).isEqualTo(trained);
            }
        }
    }

    @Test
    void aBatchThatDoesNotFitIsRefusedBeforeAnythingRuns() {
        Batch wide = HostModelGradientTest.batch(new ModelSpec.Mlp(new int[] {5, 3}, Activation.TANH, 0.0), 3, 1);
        try (Network net = new ReferenceNetwork(TANH, start(TANH), false)) {
            assertThatThrownBy(() -> Curvature.of(net, List.of(batches(TANH).get(0), wide)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("diagnostics (1) batch")
                    .hasMessageContaining("[3, 5]");
        }
    }
}
