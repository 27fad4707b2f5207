package io.github.agnosticsam.training;

import io.github.agnosticsam.model.Activation;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.Sgd;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.agnosticsam.spi.StepProgram;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How a step's summary is read: losses, gradient flags, then one update flag per parameter and state tensor. */
class StepResultTest {
    private static final ModelSpec.Mlp MODEL = new ModelSpec.Mlp(new int[] {2, 2}, Activation.TANH, 0);
    private static final StepProgram SGD = StepPrograms.of(Sgd.builder().lr(0.1).momentum(0.9).build());

    private static StepLedger ledger() {
        return new StepLedger(SGD, MODEL.parameterNames(), MODEL.parameterShapes(), BadValuePolicy.SKIP);
    }

    @Test
    void theUpdateFlagsNameTheParameterOrStateTensorTheUpdateMadeNonFinite() {
        // 1 pass, 2 parameters (W0, b0), 2 momentum tensors: [loss, gW0, gb0, uW0, ub0, us0, us1]
        StepResult param = ledger().record(() -> new double[] {0.5, 1, 1, 1, 0, 1, 1});
        assertThat(param.skipReason()).hasValue("the update made parameter b0 NaN or infinite");
        StepResult state = ledger().record(() -> new double[] {0.5, 1, 1, 1, 1, 1, 0});
        assertThat(state.skipReason()).hasValue("the update made optimizer state momentum.1 NaN or infinite");
        assertThat(ledger().record(() -> new double[] {0.5, 1, 1, 1, 1, 1, 1}).applied()).isTrue();
    }

    @Test
    void valuesAProgramAppendsAfterTheFlagsAreNotReadAsFlags() {
        StepResult r = ledger().record(() -> new double[] {0.5, 1, 1, 1, 1, 1, 1, 0.25, -3});
        assertThat(r.applied()).isTrue();
    }

    @Test
    void lossesAndGradientFlagsNameThePassAndParameter() {
        assertThat(ledger().record(() -> new double[] {0.5, 1, 0, 1, 1, 1, 1}).skipReason())
                .hasValue("pass 1 (train) gradient of parameter b0 has a NaN or infinite value");
        assertThat(List.of(ledger().record(() -> new double[] {Double.NaN, 1, 1, 1, 1, 1, 1}).skipReason()
                .orElseThrow())).containsExactly("pass 1 (train) loss is NaN");
    }

    /** A data-parallel step's summary: means of the losses, counts of finite replicas, then the verdicts. */
    @Test
    void aDataParallelSummaryNamesEveryReplicaThatWentBadAndTheFirstPassAndParameter() {
        StepLedger two = new StepLedger(SGD, MODEL.parameterNames(), MODEL.parameterShapes(), BadValuePolicy.SKIP, 2);
        // [loss, gW0 count, gb0 count, uW0, ub0, us0, us1, verdict 0, verdict 1]
        assertThat(two.record(() -> new double[] {0.5, 2, 2, 1, 1, 1, 1, 1, 1}).applied()).isTrue();
        assertThat(two.record(() -> new double[] {0.5, 2, 1, 1, 1, 1, 1, 1, 0}).skipReason())
                .hasValue("replica 1 of 2 met a non-finite value; the first: pass 1 (train) gradient of parameter b0 "
                        + "has a NaN or infinite value");
        assertThat(two.record(() -> new double[] {0.5, 1, 0, 1, 1, 1, 1, 0, 0}).skipReason())
                .hasValue("replicas 0, 1 of 2 met a non-finite value; the first: pass 1 (train) gradient of parameter "
                        + "W0 has a NaN or infinite value");
        assertThatThrownBy(() -> two.record(() -> new double[] {0.5, 2, 2, 1, 1, 1, 1}).applied())
                .as("the verdicts are part of the layout").hasMessageContaining("its layout needs at least 9");
    }

    @Test
    void aSummaryShorterThanItsLayoutIsTheProgramsError() {
        // Losses and gradient flags only: the update flags are part of the layout.
        StepResult cut = ledger().record(() -> new double[] {0.5, 1, 1});
        assertThatThrownBy(cut::applied).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("step 0: the program's summary has 3 values, its layout needs at least 7");
    }
}
