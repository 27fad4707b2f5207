package io.github.agnosticsam.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.agnosticsam.diagnostics.Curvature;
import io.github.agnosticsam.diagnostics.CurvatureOptions;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.spi.Network;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The curvature diagnostics ({@code diagnostics.Curvature}) on the engine, against PyTorch's exact Hessian. */
public interface DiagnosticsContract extends EngineContract {

    /**
     * The curvature diagnostics ({@link Curvature}, central differences of this engine's gradients)
     * against PyTorch's exact Hessian of a tanh MLP ({@code CurvatureGolden}): Hessian-vector products
     * within 1e-3 relative in float32 (1e-6 in float64), λ_max within 2 % (1e-6), Hutchinson's mean for
     * the golden probes within 1e-3 (1e-6), SAM's one-step ρ-sharpness within 1e-3 (1e-6). The step
     * follows docs/diagnostics.md for a smooth activation: large enough that float32 rounding of the
     * gradients stays near 1e-4 of a product, small enough that the truncation error is below it.
     */
    @Test
    default void curvatureDiagnosticsAgreeWithPyTorchsExactHessian() {
        CurvatureGolden golden = CurvatureGolden.load();
        boolean float32 = !kit().float64();
        double tolerance = float32 ? 1e-3 : 1e-6;
        CurvatureOptions options = CurvatureOptions.defaults().withHRelative(float32 ? 3e-3 : 1e-4)
                .withTolerance(float32 ? 1e-5 : 1e-10).withMaxIterations(200).withExactProducts(false);
        try (Network net = kit().engine().build(golden.model(), golden.params());
                Curvature curvature = Curvature.of(net, golden.batches(), options)) {
            List<HostTensor> before = net.parameters();
            for (double[][] pair : golden.products()) {
                assertThat(relativeError(curvature.hessianVectorProduct(pair[0]), pair[1])).as("H·v").isLessThanOrEqualTo(
                        tolerance);
            }
            double lambda = curvature.lambdaMax().value();
            assertThat(Math.abs(lambda - golden.eigenvalues()[0]) / golden.eigenvalues()[0]).as("λ_max %s against %s",
                    lambda, golden.eigenvalues()[0]).isLessThanOrEqualTo(float32 ? 0.02 : 1e-6);
            double mean = 0;
            for (double[] z : golden.probes()) {
                double[] hz = curvature.hessianVectorProduct(z);
                for (int i = 0; i < z.length; i++) {
                    mean += z[i] * hz[i] / golden.probes().size();
                }
            }
            assertThat(Math.abs(mean - golden.probeMean()) / Math.abs(golden.probeMean())).as("mean zᵀHz %s against %s",
                    mean, golden.probeMean()).isLessThanOrEqualTo(tolerance);
            double oneStep = curvature.sharpness(golden.rho(), 0).oneStep();
            assertThat(Math.abs(oneStep - golden.rhoOneStep()) / golden.rhoOneStep()).as("SAM's one-step ρ-sharpness %s "
                    + "against %s", oneStep, golden.rhoOneStep()).isLessThanOrEqualTo(tolerance);
            assertThat(net.parameters()).as("the parameters afterwards").usingRecursiveFieldByFieldElementComparator()
                    .isEqualTo(before);
        }
    }

    /**
     * Exact Hessian-vector products, on an engine that declares them ({@link
     * Network#hasExactHessianVectorProducts()}): against PyTorch's exact Hessian of the tanh MLP and
     * of the same MLP with ReLU (where central differences cross kinks), products within 1e-4
     * relative in float32 (1e-9 in float64), λ_max within 0.5 % (1e-9), Hutchinson's mean for the
     * golden probes within 1e-4 (1e-9), the parameters unchanged. An engine without them refuses a
     * product with UnsupportedFeatureException, and the diagnostics use central differences.
     */
    @Test
    default void exactHessianVectorProductsAgreeWithPyTorchOnTanhAndRelu() {
        boolean float32 = !kit().float64();
        double tolerance = float32 ? 1e-4 : 1e-9;
        for (String name : List.of("tanh-mlp.json", "relu-mlp.json")) {
            CurvatureGolden golden = CurvatureGolden.load(name);
            try (Network net = kit().engine().build(golden.model(), golden.params());
                    Curvature curvature = Curvature.of(net, golden.batches(),
                            CurvatureOptions.defaults().withTolerance(float32 ? 1e-6 : 1e-11).withMaxIterations(200))) {
                if (!net.hasExactHessianVectorProducts()) {
                    assertThat(curvature.exactProducts()).isFalse();
                    org.assertj.core.api.Assertions.assertThatThrownBy(() -> net.hessianVectorProduct(
                            golden.batches().get(0), golden.products().get(0)[0]))
                            .isInstanceOf(io.github.agnosticsam.spi.UnsupportedFeatureException.class);
                    return;
                }
                assertThat(curvature.exactProducts()).as("exact products where the engine has them").isTrue();
                List<HostTensor> before = net.parameters();
                for (double[][] pair : golden.products()) {
                    assertThat(relativeError(curvature.hessianVectorProduct(pair[0]), pair[1])).as(name + ": H·v")
                            .isLessThanOrEqualTo(tolerance);
                }
                double lambda = curvature.lambdaMax().value();
                assertThat(Math.abs(lambda - golden.eigenvalues()[0]) / golden.eigenvalues()[0]).as(
                        "%s: λ_max %s against %s", name, lambda, golden.eigenvalues()[0])
                        .isLessThanOrEqualTo(float32 ? 0.005 : 1e-9);
                double mean = 0;
                for (double[] z : golden.probes()) {
                    double[] hz = curvature.hessianVectorProduct(z);
                    for (int i = 0; i < z.length; i++) {
                        mean += z[i] * hz[i] / golden.probes().size();
                    }
                }
                assertThat(Math.abs(mean - golden.probeMean()) / Math.abs(golden.probeMean())).as(
                        "%s: mean zᵀHz %s against %s", name, mean, golden.probeMean()).isLessThanOrEqualTo(tolerance);
                assertThat(net.parameters()).as("the parameters afterwards").usingRecursiveFieldByFieldElementComparator()
                        .isEqualTo(before);
            }
        }
    }

    private static double relativeError(double[] actual, double[] expected) {
        double diff = 0;
        double size = 0;
        for (int i = 0; i < expected.length; i++) {
            diff += (actual[i] - expected[i]) * (actual[i] - expected[i]);
            size += expected[i] * expected[i];
        }
        return Math.sqrt(diff / size);
    }
}
