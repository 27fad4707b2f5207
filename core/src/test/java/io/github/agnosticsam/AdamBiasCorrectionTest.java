package io.github.agnosticsam;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.agnosticsam.spi.StepProgram;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Adam's bias corrections reach a float32 engine as the scalar inputs lr/(1 − β₁ᵗ) and √(1 − β₂ᵗ).
 * Within 1e-6 relative of the exact values for every t up to 10⁵, after rounding to float32, and t
 * counts only applied steps.
 */
class AdamBiasCorrectionTest {
    private static final MathContext MC = new MathContext(60);

    @Test
    void correctionsFedToAFloat32EngineAreWithin1e6RelativeForEveryStepUpTo1e5() {
        double lr = 0.05;
        for (double[] betas : new double[][] {{0.9, 0.999}, {0.5, 0.99}, {0.95, 0.9999}}) {
            StepProgram program = StepProgram.of(Adam.builder().lr(lr).beta1(betas[0]).beta2(betas[1]).build());
            BigDecimal power1 = BigDecimal.ONE;
            BigDecimal power2 = BigDecimal.ONE;
            double worst = 0;
            for (int t = 1; t <= 100_000; t++) {
                power1 = power1.multiply(new BigDecimal(betas[0]), MC);
                power2 = power2.multiply(new BigDecimal(betas[1]), MC);
                double[] fed = program.scalars(t - 1, t - 1);
                double stepSize = new BigDecimal(lr).divide(BigDecimal.ONE.subtract(power1), MC).doubleValue();
                double sqrt2 = BigDecimal.ONE.subtract(power2).sqrt(MC).doubleValue();
                worst = Math.max(worst, relative((float) fed[1], stepSize));
                worst = Math.max(worst, relative((float) fed[2], sqrt2));
            }
            assertThat(worst).as("worst relative error over t = 1..1e5, betas %s", Arrays.toString(betas))
                    .isLessThanOrEqualTo(1e-6);
        }
    }

    @Test
    void aStepThatIsNotAppliedDoesNotAdvanceAdamsStepCount() {
        StepProgram program = StepProgram.of(Adam.builder().lr(0.1).build());
        StepLedger ledger = new StepLedger(program, new ModelSpec.Mlp(new int[] {2, 2}, Activation.TANH, 0)
                .parameterNames(), BadValuePolicy.SKIP);
        double[] first = ledger.nextScalars();
        assertThat(first[1]).isCloseTo(0.1 / (1 - 0.9), org.assertj.core.data.Offset.offset(1e-12));
        // passes: 1; summary: loss NaN, flags for W0 and b0.
        ledger.record(() -> new double[] {Double.NaN, 1, 1});
        assertThat(ledger.nextScalars()).as("t is still 1 after a skipped step").containsExactly(first);
        assertThat(ledger.steps()).isEqualTo(1);
        assertThat(ledger.appliedSteps()).isZero();
        ledger.record(() -> new double[] {0.5, 1, 1});
        assertThat(ledger.nextScalars()[1]).isCloseTo(0.1 / (1 - 0.81), org.assertj.core.data.Offset.offset(1e-12));
        assertThat(ledger.appliedSteps()).isEqualTo(1);
    }

    private static double relative(double actual, double exact) {
        return Math.abs(actual - exact) / Math.abs(exact);
    }
}
