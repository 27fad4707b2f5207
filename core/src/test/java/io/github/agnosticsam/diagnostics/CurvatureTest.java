package io.github.agnosticsam.diagnostics;

import static io.github.agnosticsam.diagnostics.Curvature.distance;
import static io.github.agnosticsam.diagnostics.Curvature.dot;
import static io.github.agnosticsam.diagnostics.Curvature.norm;
import static io.github.agnosticsam.diagnostics.Curvature.scaled;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The diagnostics' arithmetic on a loss whose Hessian is known in closed form ({@link CubicNetwork}):
 * a quadratic with eigenvalues chosen here, plus a cubic term that a central difference still
 * differentiates exactly. The engine-level checks against an independent Hessian are in the
 * conformance module (CurvatureOnReferenceTest).
 */
class CurvatureTest {
    /** Eigenvalues of A, one negative and larger in magnitude than all but the first. */
    private static final double[] SPECTRUM = {5, -3, 2, 1, 0.5, 0.25, 0.1};
    private static final double[] THETA = {0.3, -0.2, 0.5, 0.1, -0.4, 0.25, 0.05};
    private static final double[] LINEAR = {0.1, 0.2, -0.1, 0.05, 0.0, -0.3, 0.15};
    /** Two batches of sizes 2 and 3: the loss's factor is their size-weighted mean feature. */
    private static final List<Batch> BATCHES = List.of(batch(0.5, 1.5), batch(1.0, 2.0, 0.5));
    private static final double M = CubicNetwork.meanFeature(BATCHES);
    private static final CurvatureOptions TIGHT = CurvatureOptions.defaults().withTolerance(1e-13)
            .withMaxIterations(1000);

    @Test
    void theBatchesWeighByTheirSizes() {
        assertThat(M).isEqualTo((0.5 + 1.5 + 1.0 + 2.0 + 0.5) / 5);
    }

    @Test
    void theProductIsTheExactHessianTimesVOnACubicLoss() {
        CubicNetwork net = network(0.7);
        assertProductsExact(net, Curvature.CENTRAL);
    }

    /** A planted forward difference (first order) and a sign error are caught by the same check. */
    @Test
    void wrongProductRulesFailTheSameCheck() {
        Curvature.ProductRule forward = (gradient, v, eps) -> {
            double[] plus = gradient.apply(scaled(v, eps));
            double[] here = gradient.apply(new double[v.length]);
            double[] out = new double[v.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = (plus[i] - here[i]) / eps;
            }
            return out;
        };
        Curvature.ProductRule flipped = (gradient, v, eps) -> scaled(Curvature.CENTRAL.product(gradient, v, eps), -1);
        assertThatThrownBy(() -> assertProductsExact(network(0.7), forward)).isInstanceOf(AssertionError.class);
        assertThatThrownBy(() -> assertProductsExact(network(0.7), flipped)).isInstanceOf(AssertionError.class);
        assertThatThrownBy(() -> assertTopEigenvalues(flipped, network(0))).isInstanceOf(AssertionError.class);
    }

    private static void assertProductsExact(CubicNetwork net, Curvature.ProductRule rule) {
        double[][] h = net.hessian(THETA, BATCHES);
        SplittableRandom random = new SplittableRandom(3);
        try (Curvature c = new Curvature(net, BATCHES, CurvatureOptions.defaults(), rule)) {
            for (int trial = 0; trial < 3; trial++) {
                double[] v = new double[CubicNetwork.D];
                for (int i = 0; i < v.length; i++) {
                    v[i] = random.nextDouble(-2, 2);
                }
                double[] expected = times(h, v);
                double[] got = c.hessianVectorProduct(v);
                assertThat(distance(got, expected)).as("‖Hv − exact‖ / ‖exact‖").isLessThan(1e-12 * norm(expected));
            }
        }
    }

    @Test
    void powerIterationWithDeflationFindsTheEigenvaluesOfLargestMagnitude() {
        assertTopEigenvalues(Curvature.CENTRAL, network(0));
    }

    private static void assertTopEigenvalues(Curvature.ProductRule rule, CubicNetwork net) {
        try (Curvature c = new Curvature(net, BATCHES, TIGHT, rule)) {
            List<Eigenvalue> top = c.topEigenvalues(3);
            double[][] q = householder();
            for (int j = 0; j < 3; j++) {
                Eigenvalue e = top.get(j);
                assertThat(e.value()).as("eigenvalue %d", j).isCloseTo(M * SPECTRUM[j],
                        within(1e-9 * Math.abs(M * SPECTRUM[j])));
                assertThat(Math.abs(dot(e.vector(), column(q, j)))).as("|cos| with eigenvector %d", j)
                        .isCloseTo(1.0, within(1e-6));
                assertThat(e.converged()).isTrue();
                assertThat(e.residual()).isLessThan(1e-5);
                assertThat(Math.abs(e.value() - M * SPECTRUM[j])).as("within the residual")
                        .isLessThanOrEqualTo(e.residual() + 1e-12);
                assertThat(e.gradientEvaluations()).isEqualTo(2L * e.iterations());
            }
            assertThat(c.gradientEvaluations()).isEqualTo(top.stream().mapToLong(Eigenvalue::gradientEvaluations).sum());
            assertThat(c.lambdaMax().value()).as("λ_max (Lanczos), here also the largest in magnitude")
                    .isCloseTo(top.get(0).value(), within(1e-9 * Math.abs(top.get(0).value())));
        }
    }

    /** Lanczos finds the largest eigenvalues, passing over −3, larger in magnitude than 2. */
    @Test
    void lanczosFindsTheLargestEigenvalues() {
        assertLargestEigenvalues(Curvature.CENTRAL, network(0));
    }

    /**
     * An eigenvalue H repeats: a single Krylov space holds it once (it is exhausted after as many
     * products as H has distinct eigenvalues), so Lanczos must restart to find it again; H = 2I
     * exhausts the space at once.
     */
    @Test
    void lanczosFindsAnEigenvalueHRepeats() {
        double[][] a = new double[7][7];
        double[] diagonal = {5, 5, 1, 0.5, 0.25, 0.1, 0.05};
        for (int i = 0; i < 7; i++) {
            a[i][i] = diagonal[i];
        }
        try (Curvature c = Curvature.of(new CubicNetwork(a, LINEAR, 0, THETA), BATCHES, TIGHT)) {
            List<Eigenvalue> two = c.largestEigenvalues(2);
            assertThat(two.get(0).value()).isCloseTo(5 * M, within(1e-9));
            assertThat(two.get(1).value()).isCloseTo(5 * M, within(1e-9));
            assertThat(Math.abs(dot(two.get(0).vector(), two.get(1).vector()))).as("two orthogonal vectors").isLessThan(1e-9);
        }
        double[][] twice = new double[7][7];
        for (int i = 0; i < 7; i++) {
            twice[i][i] = 2;
        }
        try (Curvature c = Curvature.of(new CubicNetwork(twice, LINEAR, 0, THETA), BATCHES, TIGHT)) {
            List<Eigenvalue> three = c.largestEigenvalues(3);
            for (Eigenvalue e : three) {
                assertThat(e.value()).isCloseTo(2 * M, within(1e-9));
                assertThat(e.converged()).isTrue();
            }
        }
    }

    /**
     * The residual Lanczos reports is measured at its vector, not estimated: with a product that is not
     * linear in v (as finite differences across ReLU kinks are not) the estimate |βₘyₘ| would be small
     * while H(x) is far from λx.
     */
    @Test
    void lanczosMeasuresItsResidual() {
        Curvature.ProductRule kinked = (gradient, v, eps) -> {
            double[] hv = Curvature.CENTRAL.product(gradient, v, eps);
            for (int i = 0; i < hv.length; i++) {
                hv[i] += 0.5 * Math.abs(v[i]);
            }
            return hv;
        };
        try (Curvature c = new Curvature(network(0), BATCHES, TIGHT, kinked)) {
            Eigenvalue e = c.lambdaMax();
            double[] hx = c.hessianVectorProduct(e.vector());
            assertThat(e.residual()).isCloseTo(distance(hx, scaled(e.vector(), e.value())), within(1e-9));
            assertThat(e.residual()).isGreaterThan(1e-3);
            assertThat(e.gradientEvaluations()).isEqualTo(2L * (e.iterations() + 1));
        }
    }

    @Test
    void aWrongProductRuleFailsTheLanczosCheck() {
        Curvature.ProductRule flipped = (gradient, v, eps) -> scaled(Curvature.CENTRAL.product(gradient, v, eps), -1);
        assertThatThrownBy(() -> assertLargestEigenvalues(flipped, network(0))).isInstanceOf(AssertionError.class);
    }

    private static void assertLargestEigenvalues(Curvature.ProductRule rule, CubicNetwork net) {
        int[] expected = {0, 2, 3}; // indices into SPECTRUM of 5, 2, 1
        try (Curvature c = new Curvature(net, BATCHES, TIGHT, rule)) {
            List<Eigenvalue> top = c.largestEigenvalues(3);
            double[][] q = householder();
            for (int j = 0; j < 3; j++) {
                Eigenvalue e = top.get(j);
                double exact = M * SPECTRUM[expected[j]];
                assertThat(e.value()).as("eigenvalue %d", j).isCloseTo(exact, within(1e-9 * Math.abs(exact)));
                assertThat(Math.abs(dot(e.vector(), column(q, expected[j])))).as("|cos| with eigenvector %d", j)
                        .isCloseTo(1.0, within(1e-6));
                assertThat(e.converged()).isTrue();
                assertThat(Math.abs(e.value() - exact)).as("within the residual").isLessThanOrEqualTo(e.residual() + 1e-9);
                assertThat(e.iterations()).as("at most D products").isLessThanOrEqualTo(CubicNetwork.D);
                assertThat(e.gradientEvaluations()).as("the products and the 3 residuals'").isEqualTo(
                        2L * (e.iterations() + 3));
            }
            assertThat(c.gradientEvaluations()).isEqualTo(top.get(0).gradientEvaluations());
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void eachMethodSaysWhenItStoppedBeforeConverging(boolean lanczos) {
        try (Curvature c = Curvature.of(network(0), BATCHES, CurvatureOptions.defaults().withMaxIterations(2))) {
            Eigenvalue e = lanczos ? c.lambdaMax() : c.topEigenvalues(1).get(0);
            assertThat(e.iterations()).isEqualTo(2);
            assertThat(e.converged()).isFalse();
            assertThat(e.gradientEvaluations()).isEqualTo(lanczos ? 6 : 4); // Lanczos: and its residual's product
            // Not converged, but some eigenvalue lies within the residual of the value.
            double nearest = java.util.Arrays.stream(SPECTRUM).map(x -> Math.abs(M * x - e.value())).min().orElseThrow();
            assertThat(nearest).isLessThanOrEqualTo(e.residual());
            assertThat(e.residual()).isGreaterThan(1e-3);
            assertThat(e.toMap()).containsEntry("converged", false).containsEntry("iterations", 2);
        }
    }

    @Test
    void theTraceIsTheMeanOfZHzOverTheSeedsProbes() {
        CubicNetwork net = network(0.7);
        double[][] h = net.hessian(THETA, BATCHES);
        int probes = 9;
        try (Curvature c = Curvature.of(net, BATCHES, CurvatureOptions.defaults().withSeed(42))) {
            Trace t = c.trace(probes);
            double[][] z = Curvature.rademacherProbes(42, probes, CubicNetwork.D);
            double mean = 0;
            for (int i = 0; i < probes; i++) {
                double s = dot(z[i], times(h, z[i]));
                assertThat(t.samples()[i]).isCloseTo(s, within(1e-12));
                mean += s / probes;
            }
            assertThat(t.value()).isCloseTo(mean, within(1e-12));
            double squares = 0;
            for (double s : t.samples()) {
                squares += (s - t.value()) * (s - t.value());
            }
            assertThat(t.standardError()).isCloseTo(Math.sqrt(squares / (probes - 1) / probes),
                    within(1e-14));
            assertThat(t.probes()).isEqualTo(probes);
            assertThat(t.gradientEvaluations()).isEqualTo(2L * probes);
            for (double[] probe : z) {
                for (double x : probe) {
                    assertThat(Math.abs(x)).isEqualTo(1.0);
                }
            }
        }
    }

    /** On a quadratic, SAM's one-step increase is exactly ρ‖g‖ + ½ρ²·ĝᵀHĝ, and no point of the ball beats the bound. */
    @Test
    void sharpnessOnAQuadraticMatchesTheHandComputation() {
        CubicNetwork net = network(0);
        double[] g = net.gradient(THETA, BATCHES);
        double[] unit = scaled(g, 1 / norm(g));
        double curvature = dot(unit, times(net.hessian(THETA, BATCHES), unit));
        for (double rho : new double[] {0.01, 0.3}) {
            try (Curvature c = Curvature.of(net, BATCHES)) {
                Sharpness s = c.sharpness(rho, 8);
                assertThat(s.loss()).isCloseTo(net.loss(THETA, BATCHES), within(1e-14));
                assertThat(s.oneStep()).isCloseTo(rho * norm(g) + rho * rho / 2 * curvature,
                        within(1e-13));
                assertThat(s.ascent()).isGreaterThanOrEqualTo(s.oneStep());
                // max over the ball of gᵀδ + ½δᵀHδ is at most ρ‖g‖ + ½ρ²·λ_max(H) (λ_max = 5M here)
                assertThat(s.ascent()).isLessThanOrEqualTo(rho * norm(g) + rho * rho / 2 * 5 * M + 1e-13);
                assertThat(s.largestRadius()).isLessThanOrEqualTo(rho * (1 + 1e-12));
                assertThat(s.oneStepEvaluations()).isEqualTo(2);
                assertThat(s.gradientEvaluations()).isEqualTo(2 + 8);
                assertThat(s.toMap()).containsEntry("rho", rho).containsEntry("ascentSteps", 8);
            }
        }
    }

    /** With strong curvature off the gradient's direction, ascent finds more than SAM's step. */
    @Test
    void projectedAscentImprovesOnTheOneStepEstimateWhenCurvatureTurnsTheDirection() {
        double[][] a = new double[7][7];
        a[0][0] = 40; // steep along θ₀, while the gradient points mostly along θ₁
        double[] linear = {0.01, 1, 0, 0, 0, 0, 0};
        CubicNetwork net = new CubicNetwork(a, linear, 0, new double[7]);
        try (Curvature c = Curvature.of(net, BATCHES)) {
            Sharpness s = c.sharpness(0.5, 10);
            assertThat(s.ascent()).isGreaterThan(s.oneStep() * 1.5);
            assertThat(s.largestRadius()).isLessThanOrEqualTo(0.5 * (1 + 1e-12));
        }
    }

    @Test
    void zeroRadiusAndZeroGradientGiveZero() {
        try (Curvature c = Curvature.of(network(0.7), BATCHES)) {
            Sharpness s = c.sharpness(0, 3);
            assertThat(s.oneStep()).isZero();
            assertThat(s.ascent()).isZero();
        }
        CubicNetwork flat = new CubicNetwork(new double[7][7], new double[7], 0, new double[7]);
        try (Curvature c = Curvature.of(flat, BATCHES)) {
            assertThat(c.sharpness(0.1, 2).ascent()).isZero();
            assertThat(c.hessianVectorProduct(new double[7])).containsOnly(0.0);
            assertThat(c.gradientEvaluations()).isEqualTo(4);
        }
    }

    @Test
    void theSameSeedGivesTheSameResultsAndTheParametersComeBackBitForBit() {
        CubicNetwork one = network(0.7);
        CubicNetwork two = network(0.7);
        try (Curvature a = Curvature.of(one, BATCHES, CurvatureOptions.defaults().withSeed(5));
                Curvature b = Curvature.of(two, BATCHES, CurvatureOptions.defaults().withSeed(5));
                Curvature other = Curvature.of(network(0.7), BATCHES, CurvatureOptions.defaults().withSeed(6))) {
            assertThat(a.topEigenvalues(2)).isEqualTo(b.topEigenvalues(2));
            assertThat(a.trace(5)).isEqualTo(b.trace(5));
            assertThat(a.sharpness(0.1, 3)).isEqualTo(b.sharpness(0.1, 3));
            assertThat(a.trace(5)).isNotEqualTo(other.trace(5));
            assertThat(one.theta()).isEqualTo(THETA);
            // One program compiled, reused for every evaluation.
            assertThat(one.compilations).isEqualTo(1);
            assertThat(one.runs).isEqualTo(BATCHES.size() * (int) a.gradientEvaluations());
        }
    }

    @Test
    void aFailureMidwayLeavesTheParametersAsTheyWere() {
        CubicNetwork net = network(0.7);
        net.failOnRun = 5; // the third gradient evaluation's first batch: θ is displaced by then
        try (Curvature c = Curvature.of(net, BATCHES)) {
            assertThatThrownBy(() -> c.trace(4)).hasMessageContaining("planted failure on run 5");
            assertThat(net.theta()).isEqualTo(THETA);
            // ... and the object still works afterwards.
            assertThat(c.trace(4).probes()).isEqualTo(4);
            assertThat(net.theta()).isEqualTo(THETA);
        }
    }

    @Test
    void aNonFiniteGradientIsAnErrorAndChangesNothing() {
        CubicNetwork net = network(0.7);
        net.poisonAbove = 0.500001; // θ₂ = 0.5: one of θ ± εv reaches past this, and its loss and gradient are NaN
        try (Curvature c = Curvature.of(net, BATCHES, CurvatureOptions.defaults().withHRelative(0.5))) {
            assertThatThrownBy(c::lambdaMax).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("not finite").hasMessageContaining("smaller hRelative");
            assertThat(net.theta()).isEqualTo(THETA);
        }
    }

    @Test
    void badValuesAreErrorsNamingThem() {
        CurvatureOptions d = CurvatureOptions.defaults();
        assertThatThrownBy(() -> d.withHRelative(0)).hasMessageContaining("hRelative").hasMessageContaining("0.0");
        assertThatThrownBy(() -> d.withHRelative(-1)).hasMessageContaining("hRelative").hasMessageContaining("-1.0");
        assertThatThrownBy(() -> d.withHRelative(Double.NaN)).hasMessageContaining("hRelative").hasMessageContaining("NaN");
        assertThatThrownBy(() -> d.withHRelative(2)).hasMessageContaining("hRelative").hasMessageContaining("2.0");
        assertThatThrownBy(() -> d.withTolerance(0)).hasMessageContaining("tolerance");
        assertThatThrownBy(() -> d.withTolerance(1)).hasMessageContaining("tolerance");
        assertThatThrownBy(() -> d.withMaxIterations(0)).hasMessageContaining("maxIterations").hasMessageContaining("0");
        CubicNetwork net = network(0.7);
        assertThatThrownBy(() -> Curvature.of(net, List.of())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least one batch");
        assertThatThrownBy(() -> Curvature.of(net, null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Curvature.of(net, BATCHES, null)).hasMessageContaining("options");
        Batch wide = new Batch(HostTensor.of(new double[] {1, 2, 3, 4}, 2, 2), new int[] {0, 1});
        assertThatThrownBy(() -> Curvature.of(net, List.of(BATCHES.get(0), wide)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("diagnostics (1)")
                .hasMessageContaining("[2, 2]");
        assertThat(net.compilations).isZero();
        try (Curvature c = Curvature.of(net, BATCHES)) {
            assertThatThrownBy(() -> c.trace(1)).hasMessageContaining("probes").hasMessageContaining("got 1");
            assertThatThrownBy(() -> c.topEigenvalues(0)).hasMessageContaining("k must be in [1, 7]")
                    .hasMessageContaining("got 0");
            assertThatThrownBy(() -> c.topEigenvalues(8)).hasMessageContaining("got 8");
            assertThatThrownBy(() -> c.largestEigenvalues(8)).hasMessageContaining("k must be in [1, 7]")
                    .hasMessageContaining("got 8");
            assertThatThrownBy(() -> c.sharpness(-0.1, 1)).hasMessageContaining("rho").hasMessageContaining("-0.1");
            assertThatThrownBy(() -> c.sharpness(Double.POSITIVE_INFINITY, 1)).hasMessageContaining("Infinity");
            assertThatThrownBy(() -> c.sharpness(0.1, -1)).hasMessageContaining("ascentSteps")
                    .hasMessageContaining("-1");
            assertThatThrownBy(() -> c.hessianVectorProduct(new double[3])).hasMessageContaining("7 elements")
                    .hasMessageContaining("got 3");
            double[] nan = new double[7];
            nan[4] = Double.NaN;
            assertThatThrownBy(() -> c.hessianVectorProduct(nan)).hasMessageContaining("v[4]");
            assertThat(c.gradientEvaluations()).isZero();
        }
        Curvature closed = Curvature.of(net, BATCHES);
        closed.close();
        closed.close(); // twice is fine
        assertThatThrownBy(closed::lambdaMax).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThatThrownBy(() -> closed.hessianVectorProduct(new double[7])).hasMessageContaining("closed");
    }

    // The loss: A = Q·diag(SPECTRUM)·Qᵀ with Q a Householder reflection, plus a cubic term.

    private static CubicNetwork network(double cubic) {
        double[][] q = householder();
        double[][] a = new double[7][7];
        for (int i = 0; i < 7; i++) {
            for (int j = 0; j < 7; j++) {
                for (int k = 0; k < 7; k++) {
                    a[i][j] += q[i][k] * SPECTRUM[k] * q[j][k];
                }
            }
        }
        return new CubicNetwork(a, LINEAR, cubic, THETA);
    }

    private static double[][] householder() {
        double[] u = {1, -2, 0.5, 3, -1, 0.25, 2};
        double uu = dot(u, u);
        double[][] q = new double[7][7];
        for (int i = 0; i < 7; i++) {
            for (int j = 0; j < 7; j++) {
                q[i][j] = (i == j ? 1 : 0) - 2 * u[i] * u[j] / uu;
            }
        }
        return q;
    }

    private static Batch batch(double... features) {
        int[] labels = new int[features.length];
        return new Batch(HostTensor.of(features.clone(), features.length, 1), labels);
    }

    private static double[] column(double[][] m, int j) {
        double[] out = new double[m.length];
        for (int i = 0; i < m.length; i++) {
            out[i] = m[i][j];
        }
        return out;
    }

    private static double[] times(double[][] m, double[] v) {
        double[] out = new double[m.length];
        for (int i = 0; i < m.length; i++) {
            out[i] = dot(m[i], v);
        }
        return out;
    }
}
