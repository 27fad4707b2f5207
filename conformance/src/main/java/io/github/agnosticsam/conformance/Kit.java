package io.github.agnosticsam.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.agnosticsam.model.Activation;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.Sgd;
import java.util.List;

/** The models, optimizers and checks the contracts share. */
final class Kit {
    static final ModelSpec.Mlp MODEL = new ModelSpec.Mlp(new int[] {6, 12, 9, 4}, Activation.TANH, 0);
    static final ModelSpec.Mlp RELU_MODEL = new ModelSpec.Mlp(new int[] {6, 12, 9, 4}, Activation.RELU, 0);
    static final ModelSpec.Mlp BN_MODEL = new ModelSpec.Mlp(new int[] {6, 12, 9, 4}, Activation.TANH, 0, true);
    /**
     * 16 channels in the second convolution: with fewer output channels, PyTorch 2.7.1's CPU conv2d
     * backward computes a wrong input gradient with 2 threads on AVX-512 machines
     * (docs/conformance-kit.md).
     */
    static final ModelSpec.Cnn SMALL_CNN = new ModelSpec.Cnn(8, 4, 16, 3);
    /** Steps before a checkpoint, and steps after it. */
    static final int STEPS = 3;

    private Kit() {
    }

    static Sgd sgd(double lr) {
        return Sgd.builder().lr(lr).build();
    }

    static void assertClose(String what, List<HostTensor> actual, List<HostTensor> expected, double tolerance) {
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

    static Batch poison(Batch batch, double value) {
        double[] x = batch.features().values().clone();
        x[x.length / 2] = value;
        return new Batch(new HostTensor(batch.features().shape(), x), batch.labels());
    }
}
