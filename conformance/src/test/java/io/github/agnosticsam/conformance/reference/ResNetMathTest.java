package io.github.agnosticsam.conformance.reference;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.agnosticsam.Engines;
import io.github.agnosticsam.conformance.CaseResult;
import io.github.agnosticsam.conformance.CaseRunner;
import io.github.agnosticsam.conformance.ConformanceCase;
import io.github.agnosticsam.conformance.GoldenCases;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import org.junit.jupiter.api.Test;

/** The reference engine's residual CNN against PyTorch's float64 run of the golden case. */
class ResNetMathTest {

    @Test
    void theGoldenResNetCaseAgreesToFloat64Rounding() {
        ConformanceCase c = GoldenCases.load("resnet-agnostic-sam-exact-relu");
        assertThat(c.model()).isInstanceOf(ModelSpec.ResNet.class);
        try (Engine reference = Engines.load("reference", EngineOptions.DEFAULT)) {
            CaseResult r = CaseRunner.run(reference, c);
            System.out.println("reference: " + r.line());
            assertThat(r.outcome()).as(r.line()).isEqualTo(CaseResult.Outcome.PASS);
            // Float64 on both sides: the losses, every parameter and every running statistic after both steps,
            // and the evaluation, within a millionth of the float32 tolerance.
            assertThat(r.worstRatio()).as(r.line()).isLessThan(1e-6);
        }
    }
}
