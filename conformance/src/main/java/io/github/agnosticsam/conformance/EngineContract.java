package io.github.agnosticsam.conformance;



/**
 * A part of the conformance kit: JUnit 5 runs the default test methods of each contract a test
 * class implements, on the engine its {@link EngineUnderTest} creates. {@link EngineConformanceTest}
 * implements them all; to run one part, extend {@link EngineUnderTest} and implement that contract:
 *
 * <pre>{@code
 * class MyEngineCheckpointsTest extends EngineUnderTest implements CheckpointsContract {
 *     protected Engine createEngine() { return Engines.load("mine", EngineOptions.DEFAULT); }
 * }
 * }</pre>
 */
public interface EngineContract {

    /** The engine under test and its rounding: {@link EngineUnderTest} answers with itself. */
    EngineUnderTest kit();
}
