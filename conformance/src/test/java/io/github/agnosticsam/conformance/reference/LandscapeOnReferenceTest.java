package io.github.agnosticsam.conformance.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.agnosticsam.diagnostics.Landscape;
import io.github.agnosticsam.diagnostics.LossCurve;
import io.github.agnosticsam.diagnostics.LossSurface;
import io.github.agnosticsam.model.Activation;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.spi.support.FlatLayout;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Landscape slices on the float64 reference engine against the engine's own evaluation pass
 * ({@link Network#evaluate}: another code path, forward only), on a second network set to each point
 * by the test; for a model without BatchNorm the two losses are the same function.
 */
class LandscapeOnReferenceTest {
    private static final ModelSpec.Mlp TANH = new ModelSpec.Mlp(new int[] {4, 5, 3}, Activation.TANH, 0.0);
    private static final List<Batch> BATCHES = List.of(HostModelGradientTest.batch(TANH, 6, 21),
            HostModelGradientTest.batch(TANH, 4, 22));
    private static final FlatLayout LAYOUT = new FlatLayout(TANH.parameterShapes());

    @Test
    void everyPointIsTheLossTheEngineEvaluatesThere() {
        List<HostTensor> a = HostModelGradientTest.trainedLooking(TANH, 5);
        List<HostTensor> b = TANH.initialParameters(9);
        double[] alphas = Landscape.grid(-0.5, 1.5, 5);
        List<HostTensor> theta = TANH.initialParameters(13); // the network's own: no part of the interpolation
        try (Network net = new ReferenceNetwork(TANH, theta, false);
                Network check = new ReferenceNetwork(TANH, a, false);
                Landscape l = Landscape.of(net, BATCHES)) {
            double[] fa = LAYOUT.join(a).values();
            double[] fb = LAYOUT.join(b).values();
            double[] ft = LAYOUT.join(theta).values();
            LossCurve between = l.interpolation(a, b, alphas);
            for (int i = 0; i < alphas.length; i++) {
                double[] point = new double[fa.length];
                for (int k = 0; k < point.length; k++) {
                    point[k] = (1 - alphas[i]) * fa[k] + alphas[i] * fb[k];
                }
                assertThat(between.losses().get(i)).isCloseTo(evaluated(check, point), within(1e-12));
            }
            List<double[]> d = l.filterNormalizedDirections(2, 7);
            LossSurface plane = l.plane(d.get(0), d.get(1), alphas, new double[] {-1, 0.5});
            double[] betas = {-1, 0.5};
            for (int j = 0; j < betas.length; j++) {
                for (int i = 0; i < alphas.length; i++) {
                    double[] point = new double[fa.length];
                    for (int k = 0; k < point.length; k++) {
                        point[k] = ft[k] + alphas[i] * d.get(0)[k] + betas[j] * d.get(1)[k];
                    }
                    assertThat(plane.losses().get(j).get(i)).isCloseTo(evaluated(check, point), within(1e-12));
                }
            }
            assertThat(LAYOUT.join(net.parameters()).values()).as("parameters put back").isEqualTo(ft);
        }
    }

    /** Filters are the first axis of every tensor of rank ≥ 2: a convolution's output channels too. */
    @Test
    void theStandardCnnsFiltersGetTheirOwnNorms() {
        ModelSpec cnn = ModelSpec.standard("cnn");
        List<HostTensor> theta = cnn.initialParameters(3);
        FlatLayout layout = new FlatLayout(cnn.parameterShapes());
        double[] d = Landscape.filterNormalized(cnn.parameterShapes(), layout.join(theta).values(),
                new SplittableRandom(0));
        List<HostTensor> direction = layout.split(HostTensor.of(d, d.length));
        int checked = 0;
        for (int t = 0; t < theta.size(); t++) {
            int[] shape = theta.get(t).shape();
            double[] w = theta.get(t).values();
            double[] v = direction.get(t).values();
            if (shape.length == 1) {
                assertThat(v).containsOnly(0.0);
                continue;
            }
            int filter = w.length / shape[0];
            for (int f = 0; f < shape[0]; f++) {
                double ww = 0;
                double vv = 0;
                for (int i = f * filter; i < (f + 1) * filter; i++) {
                    ww += w[i] * w[i];
                    vv += v[i] * v[i];
                }
                assertThat(Math.sqrt(vv)).isCloseTo(Math.sqrt(ww), within(1e-12 * Math.sqrt(ww)));
                checked++;
            }
        }
        assertThat(checked).as("filters of the two convolutions and two dense layers").isGreaterThan(50);
    }

    /** The batches' size-weighted mean of the evaluation pass's mean loss, at {@code point}. */
    private static double evaluated(Network net, double[] point) {
        net.setParameters(LAYOUT.split(HostTensor.of(point, point.length)));
        double sum = 0;
        int n = 0;
        for (Batch b : BATCHES) {
            sum += b.size() * net.evaluate(b).loss();
            n += b.size();
        }
        return sum / n;
    }
}
