package io.github.agnosticsam.model;

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
    void batchNormMlpHasNoHiddenBiasAndGammaBetaAndStatistics() {
        ModelSpec.Mlp bn = new ModelSpec.Mlp(new int[] {6, 5, 4, 3}, Activation.RELU, 0, true);
        assertThat(bn.parameterNames()).containsExactly("W0", "gamma0", "beta0", "W1", "gamma1", "beta1", "W2", "b2");
        assertThat(bn.parameterShapes()).containsExactly(new int[] {5, 6}, new int[] {5}, new int[] {5},
                new int[] {4, 5}, new int[] {4}, new int[] {4}, new int[] {3, 4}, new int[] {3});
        assertThat(bn.statisticNames()).containsExactly("mean0", "var0", "mean1", "var1");
        assertThat(bn.initialStatistics()).containsExactly(HostTensor.zeros(5), HostTensor.of(new double[] {1, 1, 1, 1, 1}, 5),
                HostTensor.zeros(4), HostTensor.of(new double[] {1, 1, 1, 1}, 4));
        List<HostTensor> init = bn.initialParameters(3);
        assertThat(init.get(1).values()).containsOnly(1.0);
        assertThat(init.get(2).values()).containsOnly(0.0);
        assertThat(init.get(0).values()).doesNotContain(0.0, 1.0);
        assertThat(ModelSpec.standard("mlp-bn")).isNotEqualTo(ModelSpec.standard("mlp"));
        assertThat(ModelSpec.standard("mlp-bn").toString()).isEqualTo("mlp 784-256-10 relu batchnorm");
        assertThat(ModelSpec.standard("mlp").statisticNames()).isEmpty();
    }

    @Test
    void smallCnnShapesFollowItsSizes() {
        ModelSpec.Cnn cnn = new ModelSpec.Cnn(8, 2, 3, 4);
        assertThat(cnn.parameterShapes()).containsExactly(new int[] {2, 1, 5, 5}, new int[] {2}, new int[] {3, 2, 5, 5},
                new int[] {3}, new int[] {4, 12}, new int[] {4});
        assertThat(cnn.fanIns()).containsExactly(25, 25, 50, 50, 12, 12);
        assertThat(cnn.toString()).isEqualTo("cnn 8x8 2-3-4");
        assertThat(new ModelSpec.Cnn()).isEqualTo(ModelSpec.standard("cnn"));
        assertThatThrownBy(() -> new ModelSpec.Cnn(10, 2, 3, 4)).hasMessageContaining("multiple of 4 and >= 4, got 10");
        assertThatThrownBy(() -> ModelSpec.standard("resnet")).hasMessageContaining("mlp, mlp-bn, cnn, resnet-small, got 'resnet'");
    }

    @Test
    void resnetSmallHasTheDocumentedLayout() {
        ModelSpec.ResNet r = (ModelSpec.ResNet) ModelSpec.standard("resnet-small");
        assertThat(r).isEqualTo(new ModelSpec.ResNet()).hasToString("resnet-small");
        assertThat(r.parameterShapes()).hasSize(50);
        assertThat(r.parameterShapes().stream().mapToLong(HostTensor::size).sum()).isEqualTo(175_258);
        assertThat(r.statisticNames()).hasSize(32).startsWith("bn1.mean", "bn1.var", "layer1.0.bn1.mean");
        assertThat(r.parameterNames()).startsWith("conv1.weight", "bn1.gamma", "bn1.beta", "layer1.0.conv1.weight",
                "layer1.0.bn1.gamma", "layer1.0.bn1.beta", "layer1.0.conv2.weight", "layer1.0.bn2.gamma",
                "layer1.0.bn2.beta", "layer1.0.downsample.0.weight", "layer1.0.downsample.1.gamma",
                "layer1.0.downsample.1.beta", "layer1.1.conv1.weight").endsWith("layer3.1.bn2.beta", "fc.weight",
                "fc.bias");
        assertThat(r.parameterNames()).doesNotContain("layer1.1.downsample.0.weight");
        assertThat(r.parameterShapes().get(9)).containsExactly(16, 16, 1, 1);
        assertThat(r.fanIns().subList(0, 4)).containsExactly(9, 16, 16, 144);
        assertThat(r.sideAfter(2)).isEqualTo(4);
        List<HostTensor> init = r.initialParameters(1);
        assertThat(init.get(1).values()).containsOnly(1.0);
        assertThat(init.get(2).values()).containsOnly(0.0);
        assertThat(r.initialStatistics().get(1).values()).containsOnly(1.0);
        assertThat(r.initialStatistics().get(0).values()).containsOnly(0.0);
        ModelSpec.ResNet small = new ModelSpec.ResNet(8, 4, new int[] {16}, 2, 3);
        assertThat(small.parameterShapes()).hasSize(20);
        assertThat(small.parameterShapes().stream().mapToLong(HostTensor::size).sum()).isEqualTo(7_807);
        assertThat(small).hasToString("resnet 8x8 stem 4 stages 16 blocks 2 classes 3");
        assertThatThrownBy(() -> new ModelSpec.ResNet(28, 16, new int[] {16, 0}, 2, 10))
                .hasMessage("resnet stage widths must be one or more numbers >= 1, got [16, 0]");
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
    void aCustomModelDescribesItsRunningStatisticsOrHasNone() {
        ModelSpec plain = new ModelSpec.Custom("plain", new int[] {3}, 2, List.of(new int[] {2, 3}), List.of("W"),
                List.of(3), 0);
        assertThat(plain.statisticNames()).isEmpty();
        assertThat(plain.statisticShapes()).isEmpty();
        ModelSpec bn = new ModelSpec.Custom("bn", new int[] {3}, 2, List.of(new int[] {2, 3}), List.of("W"), List.of(3),
                0, List.of(new int[] {3}, new int[] {3}), List.of("mean", "var"));
        assertThat(bn.statisticNames()).containsExactly("mean", "var");
        assertThat(bn.statisticShapes()).containsExactly(new int[] {3}, new int[] {3});
        bn.checkStatistics(List.of(HostTensor.zeros(3), HostTensor.zeros(3)));
        assertThatThrownBy(() -> bn.checkStatistics(List.of(HostTensor.zeros(3), HostTensor.zeros(2))))
                .hasMessageContaining("var");
        assertThatThrownBy(() -> new ModelSpec.Custom("odd", new int[] {3}, 2, List.of(new int[] {2, 3}),
                List.of("W"), List.of(3), 0, List.of(new int[] {3}), List.of("mean", "var")))
                .hasMessageContaining("odd: 1 statistic shapes and 2 names");
        assertThatThrownBy(() -> new ModelSpec.Custom("twice", new int[] {3}, 2, List.of(new int[] {2, 3},
                new int[] {2}), List.of("weight", "weight"), List.of(3, 3), 0))
                .hasMessage("twice: the name 'weight' is given twice; parameter and statistic names must be unique");
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
