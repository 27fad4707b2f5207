package io.github.agnosticsam;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ModelSpecTest {

    @Test
    void cnnHasTheDocumentedParameterCount() {
        ModelSpec cnn = ModelSpec.standard("cnn");
        long total = cnn.parameterShapes().stream().mapToLong(HostTensor::size).sum();
        assertThat(total).isEqualTo(83_466);
        assertThat(cnn.inputShape()).containsExactly(1, 28, 28);
    }

    @Test
    void mlpShapesAreOutByIn() {
        ModelSpec.Mlp mlp = (ModelSpec.Mlp) ModelSpec.standard("mlp");
        assertThat(mlp.parameterShapes()).containsExactly(new int[] {256, 784}, new int[] {256},
                new int[] {10, 256}, new int[] {10});
        assertThat(mlp.parameterNames()).containsExactly("W0", "b0", "W1", "b1");
        assertThat(mlp.classes()).isEqualTo(10);
        assertThat(mlp.toString()).isEqualTo("mlp 784-256-10 relu");
    }

    @Test
    void initialisationIsSeededAndWithinPyTorchBounds() {
        ModelSpec mlp = ModelSpec.standard("mlp");
        List<HostTensor> a = mlp.initialParameters(3);
        assertThat(mlp.initialParameters(3)).isEqualTo(a);
        assertThat(mlp.initialParameters(4)).isNotEqualTo(a);
        double bound = 1 / Math.sqrt(784);
        double max = 0;
        for (double v : a.get(0).values()) {
            max = Math.max(max, Math.abs(v));
        }
        assertThat(max).isLessThanOrEqualTo(bound);
        assertThat(max).as("values fill the range").isGreaterThan(0.95 * bound);
    }

    @Test
    void badDescriptionsAreRejected() {
        assertThatThrownBy(() -> new ModelSpec.Mlp(new int[] {4}, Activation.RELU, 0)).hasMessageContaining("[4]");
        assertThatThrownBy(() -> new ModelSpec.Mlp(new int[] {4, 0, 2}, Activation.RELU, 0))
                .hasMessageContaining(">= 1");
        assertThatThrownBy(() -> new ModelSpec.Mlp(new int[] {4, 2}, Activation.RELU, 1.0))
                .hasMessageContaining("labelSmoothing").hasMessageContaining("[0, 1)");
        assertThatThrownBy(() -> ModelSpec.standard("resnet")).hasMessageContaining("'resnet'");
        assertThatThrownBy(() -> Activation.fromId("gelu")).hasMessageContaining("'gelu'");
    }

    @Test
    void batchChecksShapesAndLabels() {
        ModelSpec mlp = new ModelSpec.Mlp(new int[] {3, 2}, Activation.TANH, 0);
        Batch ok = new Batch(HostTensor.of(new double[6], 2, 3), new int[] {0, 1});
        ok.checkFits(mlp, "train");
        assertThatThrownBy(() -> new Batch(HostTensor.of(new double[6], 2, 3), new int[] {0}))
                .hasMessageContaining("2 examples but 1 labels");
        assertThatThrownBy(() -> new Batch(HostTensor.of(new double[6], 3, 2), new int[] {0, 1, 1}).checkFits(mlp, "train"))
                .hasMessageContaining("[3, 2]").hasMessageContaining("expected [n, 3]");
        assertThatThrownBy(() -> new Batch(HostTensor.of(new double[6], 2, 3), new int[] {0, 2}).checkFits(mlp, "train"))
                .hasMessageContaining("label 1 is 2");
        assertThatThrownBy(() -> HostTensor.of(new double[5], 2, 3)).hasMessageContaining("holds 6 values, got 5");
    }
}
