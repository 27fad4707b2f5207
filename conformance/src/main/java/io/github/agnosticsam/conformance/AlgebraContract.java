package io.github.agnosticsam.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Each operation of the engine's {@code Tensors} algebra on its own ({@link TensorsContract}), one
 * dynamic test a check, named "operation: what is checked".
 */
public interface AlgebraContract extends EngineContract {

    @TestFactory
    default Stream<DynamicTest> tensorOperations() {
        List<CaseResult> results = TensorsContract.run(kit().engine(), kit().relativeRounding());
        return results.stream().map(r -> DynamicTest.dynamicTest(r.name(), () -> {
            if (r.outcome() == CaseResult.Outcome.SKIP) {
                Assumptions.abort(r.line());
            }
            assertThat(r.outcome()).as(r.line()).isEqualTo(CaseResult.Outcome.PASS);
        }));
    }
}
