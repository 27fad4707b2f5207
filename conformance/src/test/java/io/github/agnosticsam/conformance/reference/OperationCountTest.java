package io.github.agnosticsam.conformance.reference;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.agnosticsam.model.Activation;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.Sgd;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.training.Training;
import org.junit.jupiter.api.Test;

/**
 * The engine operations an eager step issues (EagerNetwork counts its Tensors calls, scalar
 * constants aside), against a count derived by hand from the program. With one tensor per
 * parameter it grows with the number of parameter tensors; with flat storage it does not.
 */
class OperationCountTest {
    private static final Sgd SGD = Sgd.builder().lr(0.01).momentum(0.9).weightDecay(5e-4).build();

    /**
     * SGD with momentum and weight decay over P parameter tensors and P momentum buffers
     * (OptimizerProgram, SgdRule):
     * <ul>
     * <li>the train pass's guard: allFinite per gradient, P;
     * <li>the update: −lr once (mul), 1; per tensor the multiply-adds d + λθ, μ·buf + d and θ + (−lr)·d
     * (axpy), 3P;
     * <li>the guard's output: allFinite per new parameter and per new buffer, 2P; concat of the
     * losses, of the gradient flags, of the update flags, 3; ok = allFinite(losses) ·
     * (allFinite(1/gradient flags) · allFinite(1/update flags)): 3 allFinite, 2 div, 2 mul, 7;
     * where(ok, new, old) per parameter and per buffer, 2P; the summary's concat, 1.
     * </ul>
     * 8P + 12; the support layer adds nothing here (no running statistics, no aliased output). The
     * mlp 784-256-10 has P = 4 (W0, b0, W1, b1): 44.
     */
    @Test
    void sgdOnTheMlpIssuesTheOperationsItsProgramSpellsOut() {
        ModelSpec mlp = ModelSpec.standard("mlp");
        try (Network net = new ReferenceNetwork(mlp, mlp.initialParameters(0), false); Training t = Training.start(net, SGD)) {
            assertThat(t.operationsPerStep()).as("before the first step").isEqualTo(-1);
            Batch batch = HostModelGradientTest.batch(mlp, 2, 1);
            t.step(batch);
            assertThat(t.operationsPerStep()).isEqualTo(44);
            t.step(batch);
            assertThat(t.operationsPerStep()).isEqualTo(44);
        }
    }

    /** A third layer adds two parameter tensors and two buffers: 8 operations each pair, 16. */
    @Test
    void eachParameterTensorAddsOperations() {
        assertThat(sgdOperations(new ModelSpec.Mlp(new int[] {6, 5, 3}, Activation.RELU, 0.0))).isEqualTo(44);
        assertThat(sgdOperations(new ModelSpec.Mlp(new int[] {6, 5, 4, 3}, Activation.RELU, 0.0))).isEqualTo(60);
    }

    /**
     * Flat storage: the same program on one vector (P = 1 in 8P + 12), except that each finite
     * check is one allFiniteSegments call, so 20 whatever the number of tensors.
     */
    @Test
    void withFlatStorageTheCountDoesNotGrowWithTheTensors() {
        assertThat(sgdOperations(new ModelSpec.Mlp(new int[] {6, 5, 3}, Activation.RELU, 0.0), true)).isEqualTo(20);
        assertThat(sgdOperations(new ModelSpec.Mlp(new int[] {6, 5, 4, 3}, Activation.RELU, 0.0), true)).isEqualTo(20);
        assertThat(sgdOperations(ModelSpec.standard("resnet-small"), true)).isEqualTo(20 + 3 * 32);
    }

    private static long sgdOperations(ModelSpec spec) {
        return sgdOperations(spec, false);
    }

    private static long sgdOperations(ModelSpec spec, boolean flat) {
        try (Network net = new ReferenceNetwork(spec, spec.initialParameters(0), flat); Training t = Training.start(net, SGD)) {
            t.step(HostModelGradientTest.batch(spec, 2, 1));
            return t.operationsPerStep();
        }
    }
}
