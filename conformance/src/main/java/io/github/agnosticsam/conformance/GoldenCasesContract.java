package io.github.agnosticsam.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The golden cases ({@link GoldenCases}), one dynamic test each: loss, parameters and running
 * statistics after every step, and a final evaluation, against an independent float64 PyTorch
 * implementation of docs/algorithm.md.
 */
public interface GoldenCasesContract extends EngineContract {

    @TestFactory
    default Stream<DynamicTest> goldenCases() {
        return GoldenCases.names().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            CaseResult r = CaseRunner.run(kit().engine(), GoldenCases.load(name));
            if (r.outcome() == CaseResult.Outcome.SKIP) {
                Assumptions.abort(r.line());
            }
            assertThat(r.outcome()).as(r.line()).isEqualTo(CaseResult.Outcome.PASS);
        }));
    }
}
