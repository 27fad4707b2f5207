package io.github.agnosticsam.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.agnosticsam.conformance.reference.ReferenceEngine;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import io.github.agnosticsam.spi.UnsupportedFeatureException;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The operation checks pass on the reference engine and catch a wrong operation planted in it. */
class TensorsContractTest {
    private static final double FLOAT64 = 1e-12;
    private static final Engine REFERENCE = new ReferenceEngine(EngineOptions.DEFAULT); // holds nothing native

    @Test
    void everyCheckPassesOnTheReferenceEngine() {
        List<CaseResult> results = TensorsContract.run(REFERENCE, FLOAT64);
        assertThat(results).hasSizeGreaterThan(200);
        assertThat(results.stream().map(CaseResult::name)).doesNotHaveDuplicates();
        assertThat(results).allSatisfy(r -> assertThat(r.outcome()).as(r.line()).isEqualTo(CaseResult.Outcome.PASS));
    }

    @Test
    void theOverflowChecksAreChosenPerPrecision() {
        // Told it is float32, the float64 reference passes every check but the two whose squares
        // overflow float32 and not float64.
        List<CaseResult> failed = TensorsContract.run(REFERENCE, 1e-6).stream().filter(r -> !r.passed()).toList();
        assertThat(failed).extracting(CaseResult::name).containsExactlyInAnyOrder(
                "sumOfSquares: huge 1.0E30 overflows to +Inf, not NaN",
                "sumOfSquares: [3] of ±largest overflows to +Inf, not NaN");
    }

    static Stream<Arguments> plantedBugs() {
        return PlantedOpBugs.all().stream().map(b -> Arguments.of(b.op(), b.what(), b.bug()));
    }

    @ParameterizedTest(name = "{0} that {1}")
    @MethodSource("plantedBugs")
    void aWrongOperationFailsItsOwnChecks(String op, String what, BuggyEngine.OpsBug bug) {
        List<CaseResult> failed = TensorsContract.run(BuggyEngine.withOps(REFERENCE, bug), FLOAT64).stream()
                .filter(r -> !r.passed()).toList();
        assertThat(failed).as("checks failed by %s that %s", op, what).isNotEmpty()
                .allSatisfy(r -> assertThat(r.outcome()).isEqualTo(CaseResult.Outcome.FAIL))
                .anySatisfy(r -> assertThat(r.name()).startsWith(op + ": "))
                // every failure shows an expression that goes through the wrong operation
                .allSatisfy(r -> assertThat(r.detail()).as(r.line()).contains(op + "("));
    }

    @Test
    void aBugOfOneRankFailsTheChecksOfThatRank() {
        // It passes every other check (a scalar on either side, two [3,3]), and passed the whole kit before the
        // rank checks: only the rank-1 subtractions see it.
        Engine buggy = BuggyEngine.withOps(REFERENCE, PlantedOpBugs.named("sub that adds when both operands are rank 1")
                .bug());
        assertThat(TensorsContract.run(buggy, FLOAT64).stream().filter(r -> !r.passed())).extracting(CaseResult::name)
                .containsExactlyInAnyOrder("sub: [1] − [1]", "sub: [7] − [7]", "sub: [1000] − [1000]");
    }

    @Test
    void aFailureSaysWhatWasComputedFromWhatAndWhatCameOut() {
        Engine buggy = BuggyEngine.withOps(REFERENCE, PlantedOpBugs.named("allFinite that sees NaN but not ±Inf").bug());
        CaseResult r = TensorsContract.run(buggy, FLOAT64).stream()
                .filter(c -> c.name().equals("allFinite: [3,3] with one +Inf (last) is 0")).findFirst().orElseThrow();
        assertThat(r.line()).isEqualTo("allFinite: [3,3] with one +Inf (last) is 0 FAIL — "
                + "allFinite(div(A, Z)) with A[3, 3] = [1.0, -2.0, 0.5, 3.0, -0.25, 4.0, -1.5, 2.0, 8.0], "
                + "Z[3, 3] = [4.0, 0.25, 9.0, 16.0, 1.0, 2.25, 64.0, 0.0625, 0.0]: expected [0.0], got [1.0] "
                + "(first wrong element 0: expected 0.0, got 1.0); the check also goes through div: "
                + "if those fail their own checks, suspect them first");
    }

    @Test
    void aProgramTheEngineCannotRunIsSkippedNotPassed() {
        Engine unable = BuggyEngine.withPrograms(REFERENCE, program -> {
            throw new UnsupportedFeatureException("no step programs here");
        });
        assertThat(TensorsContract.run(unable, FLOAT64)).allSatisfy(r -> {
            assertThat(r.outcome()).isEqualTo(CaseResult.Outcome.SKIP);
            assertThat(r.detail()).contains("no step programs here");
        });
    }
}
