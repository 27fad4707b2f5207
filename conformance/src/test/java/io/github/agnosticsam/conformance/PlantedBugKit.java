package io.github.agnosticsam.conformance;

import io.github.agnosticsam.conformance.reference.ReferenceEngine;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import java.util.function.UnaryOperator;

/**
 * The whole kit on the reference engine with the bug that {@link KitBitesTest} plants before it
 * launches this class. Not run by surefire on its own: its name does not end in Test.
 */
class PlantedBugKit extends EngineConformanceTest {
    /** Turns each new reference engine into the engine under test; the identity runs the plain engine. */
    static volatile UnaryOperator<Engine> plant = UnaryOperator.identity();
    /** Whether the reference engine keeps flat storage. */
    static volatile boolean flat;

    @Override
    protected Engine createEngine() {
        return plant.apply(new ReferenceEngine(flat ? new EngineOptions(io.github.agnosticsam.spi.Device.AUTO, 0,
                java.util.Map.of(ReferenceEngine.STORAGE, "flat")) : EngineOptions.DEFAULT));
    }

    @Override
    protected double relativeRounding() {
        return 1e-12;
    }
}
