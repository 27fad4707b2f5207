package io.github.agnosticsam.optim;

import io.github.agnosticsam.model.Activation;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.training.BadValuePolicy;
import io.github.agnosticsam.training.StepLedger;
import io.github.agnosticsam.training.StepPrograms;
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
            StepProgram program = StepPrograms.of(Adam.builder().lr(lr).beta1(betas[0]).beta2(betas[1]).build());
            double worst = 0;
            for (int t = 1; t <= 100_000; t++) {
                double[] fed = program.scalars(t - 1, t - 1);
                // An independent formula, exact enough here: 1 − pow(β, t) loses at most ~1e-12 relative.
                worst = Math.max(worst, relative((float) fed[1], lr / (1 - Math.pow(betas[0], t))));
                worst = Math.max(worst, relative((float) fed[2], Math.sqrt(1 - Math.pow(betas[1], t))));
            }
            assertThat(worst).as("worst relative error over t = 1..1e5, betas %s", Arrays.toString(betas))
                    .isLessThanOrEqualTo(1e-6);
        }
    }

    @Test
    void theFirstThousandStepsAgreeWithExactDecimalArithmetic() {
        BigDecimal beta = new BigDecimal(0.999);
        BigDecimal power = BigDecimal.ONE;
        StepProgram program = StepPrograms.of(Adam.builder().lr(1).beta1(0.999).beta2(0.999).build());
        for (int t = 1; t <= 1000; t++) {
            power = power.multiply(beta, MC);
            double exact = BigDecimal.ONE.divide(BigDecimal.ONE.subtract(power), MC).doubleValue();
            assertThat(relative(program.scalars(t - 1, t - 1)[1], exact)).as("t = %d", t).isLessThanOrEqualTo(1e-14);
        }
    }

    @Test
    void aStepThatIsNotAppliedDoesNotAdvanceAdamsStepCount() {
        StepProgram program = StepPrograms.of(Adam.builder().lr(0.1).build());
        ModelSpec model = new ModelSpec.Mlp(new int[] {2, 2}, Activation.TANH, 0);
        StepLedger ledger = new StepLedger(program, model.parameterNames(), model.parameterShapes(), BadValuePolicy.SKIP);
        double[] first = ledger.nextScalars();
        assertThat(first[1]).isCloseTo(0.1 / (1 - 0.9), org.assertj.core.data.Offset.offset(1e-12));
        // passes: 1; summary: loss NaN, gradient flags for W0 and b0, update flags for W0, b0 and 4 moments.
        ledger.record(() -> new double[] {Double.NaN, 1, 1, 1, 1, 1, 1, 1, 1});
        assertThat(ledger.nextScalars()).as("t is still 1 after a skipped step").containsExactly(first);
        assertThat(ledger.steps()).isEqualTo(1);
        assertThat(ledger.appliedSteps()).isZero();
        ledger.record(() -> new double[] {0.5, 1, 1, 1, 1, 1, 1, 1, 1});
        assertThat(ledger.nextScalars()[1]).isCloseTo(0.1 / (1 - 0.81), org.assertj.core.data.Offset.offset(1e-12));
        assertThat(ledger.appliedSteps()).isEqualTo(1);
    }

    private static double relative(double actual, double exact) {
        return Math.abs(actual - exact) / Math.abs(exact);
    }
}
