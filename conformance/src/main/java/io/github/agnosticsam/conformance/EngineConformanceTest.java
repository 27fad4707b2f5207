package io.github.agnosticsam.conformance;

/**
 * The engine TCK: every contract of the kit. An engine module proves itself by extending this class
 * in its tests:
 *
 * <pre>{@code
 * class MyEngineConformanceTest extends EngineConformanceTest {
 *     protected Engine createEngine() { return Engines.load("mine", EngineOptions.DEFAULT); }
 * }
 * }</pre>
 *
 * It runs every golden case ({@link GoldenCasesContract}), checks the operations of the engine's
 * algebra one by one ({@link AlgebraContract}), the properties of docs/algorithm.md
 * ({@link AlgorithmPropertiesContract}), the bad-value rule ({@link BadValuesContract}), which pass
 * moves running statistics ({@link RunningStatisticsContract}), the models it builds against the
 * float64 {@code reference} engine ({@link ModelsContract}), checkpoints
 * ({@link CheckpointsContract}), what {@code Network.evaluate} reports, the input checks, the
 * lifecycle and {@code isAvailable()} ({@link LifecycleContract}), and the curvature diagnostics
 * ({@link DiagnosticsContract}) and data-parallel steps ({@link DataParallelContract}); docs/conformance-kit.md. To run one part, extend
 * {@link EngineUnderTest} and implement that contract. A feature the engine does not support
 * ({@code UnsupportedFeatureException}) is reported as aborted, never as passed.
 */
public abstract class EngineConformanceTest extends EngineUnderTest implements GoldenCasesContract, AlgebraContract,
        AlgorithmPropertiesContract, BadValuesContract, RunningStatisticsContract, ModelsContract, CheckpointsContract,
        LifecycleContract, DiagnosticsContract, DataParallelContract {
}
