package io.github.agnosticsam.conformance.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.agnosticsam.model.Activation;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * One forward and backward pass of each new model against PyTorch in float64. The expected numbers
 * were printed by {@code conformance/tools/reference_models_golden.py} (torch 1.13); that script
 * explains the value patterns and the probe sums, which this test rebuilds exactly.
 */
class ReferenceModelsMatchPyTorchTest {
    private static final double TOLERANCE = 1e-12;

    @Test
    void batchNormMlpWithReluAndLabelSmoothing() {
        checkBatchNormMlp(new ModelSpec.Mlp(new int[] {5, 6, 4, 3}, Activation.RELU, 0.1, true), 6,
                1.0784591254534,
                new double[] {0.024903454957273724, 0.005058809569221511, -0.008553353966520067, 0.05494544542727326,
                    -0.042667997268488175, -0.06734421384570537, 0.11361060916021011, 0.32481719294007794},
                new double[] {0.009816768115942037, 0.20986617915072456, -0.016436094742366812, 0.329829402198868},
                1.0982736047361255, 0.3007942971306238);
    }

    @Test
    void batchNormMlpWithTanh() {
        checkBatchNormMlp(new ModelSpec.Mlp(new int[] {4, 5, 3}, Activation.TANH, 0.0, true), 5,
                1.1461442378901698,
                new double[] {0.08170520429665112, 0.008802311721363415, -0.025056818998873173, -0.011105022592016433,
                    0.333774093822412},
                new double[] {0.01551979130434783, 0.17864561420243474},
                1.2608700208577366, 0.2827617772200899);
    }

    @Test
    void cnn() {
        checkCnn(2, false, 1.1481870787379385, new double[] {0.047108154996588936, 0.01307713090081482,
            0.09756388857036698, -0.005313715024001705, 0.04775888759137786, -0.0030738716300761377});
    }

    /**
     * Whole pooling windows tie above zero, and the tied positions see different input columns
     * through kernel columns of weight 0: the gradient must go to the first maximum, as torch's.
     */
    @Test
    void cnnWithPoolingTies() {
        checkCnn(1, true, 1.1419996923191331, new double[] {0.051214298497935504, -0.001658868153238893,
            0.22130481295503585, -0.007030079015393231, 0.7304246592259181, 0.3043951903506791});
    }

    private static void checkBatchNormMlp(ModelSpec.Mlp spec, int n, double loss, double[] gradients,
            double[] statistics, double evalLoss, double evalLogits) {
        int[] layers = spec.layers();
        List<HostTensor> params = new ArrayList<>();
        List<HostTensor> running = new ArrayList<>();
        int salt = 1;
        for (int i = 0; i + 2 < layers.length; i++) {
            params.add(fill(salt, 1, 0, layers[i + 1], layers[i]));
            params.add(fill(salt + 1, 0.5, 1, layers[i + 1]));
            params.add(fill(salt + 2, 0.3, 0, layers[i + 1]));
            running.add(fill(salt + 3, 0.2, 0, layers[i + 1]));
            running.add(fill(salt + 4, 0.5, 1, layers[i + 1]));
            salt += 5;
        }
        int last = layers.length - 1;
        params.add(fill(salt, 1, 0, layers[last], layers[last - 1]));
        params.add(fill(salt + 1, 0.1, 0, layers[last]));
        Batch batch = new Batch(fill(99, 2, 0, n, layers[0]), labels(n, 3, 1, spec.classes()));

        HostModel model = HostModel.of(spec);
        HostModel.Gradients g = model.lossAndGradients(params, running, batch, true);
        assertThat(g.loss()).isCloseTo(loss, within(TOLERANCE));
        assertProbes(g.gradients(), gradients, "gradient");
        assertProbes(g.statistics(), statistics, "running statistic");
        // torch's module.eval() after the train pass: the statistics that pass just moved.
        double[] logits = model.logits(params, g.statistics(), batch);
        assertThat(new CrossEntropy(spec.classes(), spec.labelSmoothing()).loss(logits, batch.labels(), null))
                .isCloseTo(evalLoss, within(TOLERANCE));
        assertThat(probe(logits)).isCloseTo(evalLogits, within(TOLERANCE));
    }

    private static void checkCnn(int n, boolean ties, double loss, double[] gradients) {
        ModelSpec.Cnn spec = new ModelSpec.Cnn(8, 2, 3, 3);
        int c1 = spec.channels1();
        int c2 = spec.channels2();
        HostTensor conv1 = fill(1, 1, 0, c1, 1, 5, 5);
        HostTensor x = fill(7, 1, 0.5, n, 1, 8, 8);
        if (ties) {
            for (int k = 0; k < conv1.size(); k += 5) {
                conv1.values()[k] = 0; // kernel column 0
                conv1.values()[k + 4] = 0; // kernel column 4
            }
            x = new HostTensor(new int[] {n, 1, 8, 8}, filled(n * 64, 1.0));
            for (int row = 0; row < n * 8; row++) {
                x.values()[row * 8] = 3;
                x.values()[row * 8 + 7] = 3;
            }
        }
        List<HostTensor> params = List.of(conv1, fill(2, 0.2, ties ? 1 : 0, c1), fill(3, 0.5, 0, c2, c1, 5, 5),
                fill(4, 0.2, 0, c2), fill(5, 2, 0, spec.classes(), spec.flattened()), fill(6, 0.1, 0, spec.classes()));
        HostModel.Gradients g = HostModel.of(spec)
                .lossAndGradients(params, List.of(), new Batch(x, labels(n, 2, 1, spec.classes())), false);
        assertThat(g.loss()).isCloseTo(loss, within(TOLERANCE));
        assertProbes(g.gradients(), gradients, "gradient");
    }

    private static void assertProbes(List<HostTensor> tensors, double[] expected, String what) {
        assertThat(tensors).hasSize(expected.length);
        for (int i = 0; i < expected.length; i++) {
            assertThat(probe(tensors.get(i).values())).as("%s %d", what, i).isCloseTo(expected[i], within(TOLERANCE));
        }
    }

    /** The script's fill: offset + scale·(((k·7919 + salt·104729) mod 1000)/1000 − 0.5). */
    private static HostTensor fill(int salt, double scale, double offset, int... shape) {
        double[] v = new double[Math.toIntExact(HostTensor.size(shape))];
        for (int k = 0; k < v.length; k++) {
            v[k] = offset + scale * (((k * 7919 + salt * 104729) % 1000) / 1000.0 - 0.5);
        }
        return new HostTensor(shape, v);
    }

    /** The script's probe sum: Σ t[j]·(((j·31 + 17) mod 23)/23 − 0.4). */
    private static double probe(double[] t) {
        double s = 0;
        for (int j = 0; j < t.length; j++) {
            s += t[j] * (((j * 31 + 17) % 23) / 23.0 - 0.4);
        }
        return s;
    }

    private static int[] labels(int n, int a, int b, int classes) {
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = (a * i + b) % classes;
        }
        return y;
    }

    private static double[] filled(int count, double value) {
        double[] v = new double[count];
        Arrays.fill(v, value);
        return v;
    }
}
