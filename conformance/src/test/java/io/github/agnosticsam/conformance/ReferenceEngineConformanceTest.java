package io.github.agnosticsam.conformance;

import io.github.agnosticsam.Engine;
import io.github.agnosticsam.EngineOptions;
import io.github.agnosticsam.Engines;

/** The whole kit on the float64 reference engine, found through ServiceLoader by name. */
class ReferenceEngineConformanceTest extends EngineConformanceTest {

    @Override
    protected Engine createEngine() {
        return Engines.load("reference", EngineOptions.DEFAULT);
    }

    @Override
    protected double relativeRounding() {
        return 1e-12;
    }
}
