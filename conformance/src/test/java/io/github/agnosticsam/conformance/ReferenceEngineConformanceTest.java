package io.github.agnosticsam.conformance;

import io.github.agnosticsam.Engines;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;

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
