package org.example.engine;

import io.github.agnosticsam.Engines;
import io.github.agnosticsam.conformance.EngineConformanceTest;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;

class ExternalEngineConformanceTest extends EngineConformanceTest {

    @Override
    protected Engine createEngine() {
        return Engines.load("external", EngineOptions.DEFAULT);
    }

    @Override
    protected double relativeRounding() {
        return 1e-12;
    }
}
