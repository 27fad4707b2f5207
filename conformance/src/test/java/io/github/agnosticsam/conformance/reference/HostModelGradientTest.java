package io.github.agnosticsam.conformance.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.agnosticsam.model.Activation;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The hand-derived backward passes against central finite differences, in float64. */
class HostModelGradientTest {
    private static final double STEP = 1e-6;
    private static final double TOLERANCE = 1e-6;

    @Test
    void batchNormMlpWithReluMatchesFiniteDifferences() {
        ModelSpec.Mlp spec = new ModelSpec.Mlp(new int[] {5, 7, 6, 3}, Activation.RELU, 0.0, true);
        checkGradients(spec, trainedLooking(spec, 1), batch(spec, 8, 2));
    }

    @Test
    void batchNormMlpWithTanhAndLabelSmoothingMatchesFiniteDifferences() {
        ModelSpec.Mlp spec = new ModelSpec.Mlp(new int[] {4, 6, 5, 3}, Activation.TANH, 0.1, true);
        checkGradients(spec, trainedLooking(spec, 3), batch(spec, 6, 4));
    }

    @Test
    void cnnMatchesFiniteDifferences() {
        ModelSpec.Cnn spec = new ModelSpec.Cnn(8, 2, 3, 3);
        checkGradients(spec, spec.initialParameters(5), batch(spec, 3, 6));
    }

    @Test
    void batchNormInTrainingModeRefusesASingleExample() {
        ModelSpec.Mlp spec = new ModelSpec.Mlp(new int[] {4, 6, 3}, Activation.RELU, 0.0, true);
        HostModel model = HostModel.of(spec);
        Batch one = batch(spec, 1, 7);
        assertThatThrownBy(() -> model.lossAndGradients(spec.initialParameters(0), spec.initialStatistics(), one, true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 2 examples");
        // Evaluation mode normalises with the running statistics, so one example is fine.
        assertThat(model.logits(spec.initialParameters(0), spec.initialStatistics(), one)).hasSize(3);
    }

    @Test
    void statisticsAreReturnedOnlyWhenAskedFor() {
        ModelSpec.Mlp spec = new ModelSpec.Mlp(new int[] {4, 6, 3}, Activation.RELU, 0.0, true);
        HostModel model = HostModel.of(spec);
        Batch b = batch(spec, 4, 8);
        assertThat(model.lossAndGradients(spec.initialParameters(0), spec.initialStatistics(), b, false).statistics())
                .isEmpty();
        assertThat(model.lossAndGradients(spec.initialParameters(0), spec.initialStatistics(), b, true).statistics())
                .hasSize(2);
    }

    /** Compares every gradient element with (L(θ + h) − L(θ − h))/2h, per tensor relative to its largest element. */
    private static void checkGradients(ModelSpec spec, List<HostTensor> params, Batch batch) {
        HostModel model = HostModel.of(spec);
        List<HostTensor> statistics = spec.initialStatistics();
        List<HostTensor> grads = model.lossAndGradients(params, statistics, batch, false).gradients();
        assertThat(grads).hasSize(params.size());
        for (int p = 0; p < params.size(); p++) {
            double[] g = grads.get(p).values();
            assertThat(grads.get(p).shape()).isEqualTo(params.get(p).shape());
            double largest = 0;
            double worst = 0;
            for (int j = 0; j < g.length; j++) {
                double numeric = (lossAt(model, params, statistics, batch, p, j, STEP)
                        - lossAt(model, params, statistics, batch, p, j, -STEP)) / (2 * STEP);
                largest = Math.max(largest, Math.abs(g[j]));
                worst = Math.max(worst, Math.abs(numeric - g[j]));
            }
            String name = spec.parameterNames().get(p);
            assertThat(largest).as("largest gradient of %s", name).isGreaterThan(1e-4);
            assertThat(worst / largest).as("relative error of the gradient of %s", name).isLessThanOrEqualTo(TOLERANCE);
        }
    }

    private static double lossAt(HostModel model, List<HostTensor> params, List<HostTensor> statistics, Batch batch,
            int p, int j, double delta) {
        List<HostTensor> moved = ReferenceNetwork.copies(params);
        moved.get(p).values()[j] += delta;
        return model.lossAndGradients(moved, statistics, batch, false).loss();
    }

    /** Initial parameters with BatchNorm's γ and β moved off 1 and 0, so that their gradients matter. */
    static List<HostTensor> trainedLooking(ModelSpec.Mlp spec, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<HostTensor> params = new ArrayList<>(spec.initialParameters(seed));
        for (int i = 0; i < params.size(); i++) {
            String name = spec.parameterNames().get(i);
            double[] v = params.get(i).values();
            for (int j = 0; j < v.length; j++) {
                if (name.startsWith("gamma")) {
                    v[j] = random.nextDouble(0.5, 1.5);
                } else if (name.startsWith("beta")) {
                    v[j] = random.nextDouble(-0.5, 0.5);
                }
            }
        }
        return params;
    }

    /** n examples uniform in [0, 1) with labels cycling through the classes. */
    static Batch batch(ModelSpec spec, int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] shape = new int[spec.inputShape().length + 1];
        shape[0] = n;
        System.arraycopy(spec.inputShape(), 0, shape, 1, spec.inputShape().length);
        HostTensor features = HostTensor.zeros(shape);
        double[] v = features.values();
        for (int j = 0; j < v.length; j++) {
            v[j] = random.nextDouble();
        }
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % spec.classes();
        }
        return new Batch(features, labels);
    }
}
