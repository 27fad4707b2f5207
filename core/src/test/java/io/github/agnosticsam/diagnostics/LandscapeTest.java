package io.github.agnosticsam.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Landscape slices on a loss known in closed form ({@link CubicNetwork}): every point's loss is
 * compared with the formula at the point computed here, and the filter normalisation with the norms
 * of θ's filters. The engine-level check (against the engine's own evaluation) is
 * LandscapeOnReferenceTest in the conformance module.
 */
class LandscapeTest {
    private static final double[] THETA = {0.3, -0.2, 0.5, 0.1, -0.4, 0.25, 0.05};
    private static final List<Batch> BATCHES = List.of(batch(0.5, 1.5), batch(1.0, 2.0, 0.5));
    private static final double[] ALPHAS = {-0.5, 0, 0.25, 1, 1.5};

    @Test
    void theInterpolationIsTheLossOnTheSegmentBetweenTheTwoPoints() {
        CubicNetwork net = network();
        double[] a = {1, 0, -1, 0.5, 0.2, 0.1, -0.3};
        double[] b = {-0.5, 0.4, 0.3, 0, 1, -0.2, 0.6};
        try (Landscape l = Landscape.of(net, BATCHES)) {
            LossCurve curve = l.interpolation(tensors(a), tensors(b), ALPHAS);
            assertThat(curve.alphas()).containsExactly(-0.5, 0.0, 0.25, 1.0, 1.5);
            for (int i = 0; i < ALPHAS.length; i++) {
                double[] point = new double[7];
                for (int j = 0; j < 7; j++) {
                    point[j] = (1 - ALPHAS[i]) * a[j] + ALPHAS[i] * b[j];
                }
                assertClose(curve.losses().get(i), net.loss(point, BATCHES));
            }
            assertThat(curve.lossEvaluations()).isEqualTo(5);
            assertThat(l.lossEvaluations()).isEqualTo(5);
        }
        assertThat(net.theta()).isEqualTo(THETA);
    }

    @Test
    void lineAndPlaneAreTheLossAroundTheCurrentParameters() {
        CubicNetwork net = network();
        double[] d = {0.1, -0.2, 0.3, 0, 0.5, -0.1, 0.2};
        double[] e = {-0.3, 0.1, 0, 0.4, -0.2, 0.3, 0.1};
        double[] betas = {-1, 0.5};
        try (Landscape l = Landscape.of(net, BATCHES)) {
            LossCurve line = l.line(d, ALPHAS);
            LossSurface plane = l.plane(d, e, ALPHAS, betas);
            for (int i = 0; i < ALPHAS.length; i++) {
                assertClose(line.losses().get(i), net.loss(moved(d, ALPHAS[i], e, 0), BATCHES));
                for (int j = 0; j < betas.length; j++) {
                    assertClose(plane.losses().get(j).get(i), net.loss(moved(d, ALPHAS[i], e, betas[j]), BATCHES));
                }
            }
            assertClose(line.losses().get(1), net.loss(THETA, BATCHES)); // α = 0 is θ
            assertThat(plane.lossEvaluations()).isEqualTo(10);
            assertThat(plane.toMap()).containsKeys("alphas", "betas", "losses", "lossEvaluations");
        }
        assertThat(net.theta()).isEqualTo(THETA);
    }

    @Test
    void aFilterNormalisedDirectionGivesEachFilterTheNormOfTheParametersOwn() {
        CubicNetwork net = network();
        try (Landscape l = Landscape.of(net, BATCHES)) {
            List<double[]> two = l.filterNormalizedDirections(2, 4);
            for (double[] d : two) {
                // The [2, 2] tensor is two filters (rows) of 2; the [3] tensor is a bias: left out.
                assertThat(Math.hypot(d[0], d[1])).isCloseTo(Math.hypot(THETA[0], THETA[1]), within(1e-15));
                assertThat(Math.hypot(d[2], d[3])).isCloseTo(Math.hypot(THETA[2], THETA[3]), within(1e-15));
                assertThat(new double[] {d[4], d[5], d[6]}).containsOnly(0.0);
            }
            assertThat(two.get(0)).isNotEqualTo(two.get(1));
            assertThat(l.filterNormalizedDirections(2, 4).get(1)).as("same seed, same directions").isEqualTo(two.get(1));
            assertThat(l.filterNormalizedDirections(1, 5).get(0)).isNotEqualTo(two.get(0));
            assertThat(l.lossEvaluations()).isZero();
        }
        assertThat(net.theta()).isEqualTo(THETA);
        // A filter of zeros gets a zero direction; the elements' order is the flat order of the shapes.
        double[] d = Landscape.filterNormalized(List.of(new int[] {3, 2, 1}), new double[] {0, 0, 3, 4, 1, 0},
                new SplittableRandom(1));
        assertThat(new double[] {d[0], d[1]}).containsOnly(0.0);
        assertThat(Math.hypot(d[2], d[3])).isCloseTo(5, within(1e-14));
        assertThat(Math.hypot(d[4], d[5])).isCloseTo(1, within(1e-14));
        assertThatThrownBy(() -> Landscape.filterNormalized(List.of(new int[] {2, 2}), new double[5],
                new SplittableRandom(1))).hasMessageContaining("theta has 5 elements");
    }

    @Test
    void aFailureMidwayPutsTheParametersBack() {
        CubicNetwork net = network();
        net.failOnRun = 3; // the second point's first batch
        try (Landscape l = Landscape.of(net, BATCHES)) {
            assertThatThrownBy(() -> l.line(new double[7], ALPHAS)).hasMessageContaining("planted failure on run 3");
            assertThat(net.theta()).isEqualTo(THETA);
        }
        CubicNetwork poisoned = network();
        poisoned.poisonAbove = 1;
        try (Landscape l = Landscape.of(poisoned, BATCHES)) {
            double[] d = {0, 0, 1, 0, 0, 0, 0};
            assertThatThrownBy(() -> l.line(d, ALPHAS)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("not finite").hasMessageContaining("α = 1.0");
            assertThat(poisoned.theta()).isEqualTo(THETA);
        }
    }

    @Test
    void badValuesAreErrorsNamingThem() {
        CubicNetwork net = network();
        try (Landscape l = Landscape.of(net, BATCHES)) {
            assertThatThrownBy(() -> l.line(new double[3], ALPHAS)).hasMessageContaining("direction must have 7 elements")
                    .hasMessageContaining("got 3");
            assertThatThrownBy(() -> l.line(new double[7], new double[] {0, Double.NaN}))
                    .hasMessageContaining("alphas[1] must be finite, got NaN");
            assertThatThrownBy(() -> l.plane(new double[7], new double[7], ALPHAS, new double[0]))
                    .hasMessageContaining("betas must hold at least one value");
            assertThatThrownBy(() -> l.interpolation(List.of(HostTensor.of(new double[4], 2, 2)), tensors(THETA), ALPHAS))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> l.filterNormalizedDirections(0, 1)).hasMessageContaining("count must be >= 1");
            assertThat(l.lossEvaluations()).isZero();
        }
        assertThat(net.theta()).isEqualTo(THETA);
        assertThat(Landscape.grid(-1, 1, 5)).containsExactly(-1, -0.5, 0, 0.5, 1);
        assertThatThrownBy(() -> Landscape.grid(1, 1, 5)).hasMessageContaining("from < to");
        assertThatThrownBy(() -> Landscape.grid(0, 1, 1)).hasMessageContaining("got 0.0, 1.0 and 1");
    }

    private static double[] moved(double[] d, double alpha, double[] e, double beta) {
        double[] out = new double[7];
        for (int i = 0; i < 7; i++) {
            out[i] = THETA[i] + alpha * d[i] + beta * e[i];
        }
        return out;
    }

    private static void assertClose(double got, double expected) {
        assertThat(Math.abs(got - expected)).as("%s against %s", got, expected).isLessThanOrEqualTo(1e-14 * Math.max(1,
                Math.abs(expected)));
    }

    private static CubicNetwork network() {
        double[][] a = new double[7][7];
        for (int i = 0; i < 7; i++) {
            a[i][i] = 1 + i;
            if (i > 0) {
                a[i][i - 1] = a[i - 1][i] = 0.3;
            }
        }
        return new CubicNetwork(a, new double[] {0.1, 0.2, -0.1, 0.05, 0.0, -0.3, 0.15}, 0.7, THETA);
    }

    private static List<HostTensor> tensors(double[] flat) {
        return List.of(HostTensor.of(java.util.Arrays.copyOfRange(flat, 0, 4), 2, 2),
                HostTensor.of(java.util.Arrays.copyOfRange(flat, 4, 7), 3));
    }

    private static Batch batch(double... features) {
        return new Batch(HostTensor.of(features.clone(), features.length, 1), new int[features.length]);
    }
}
