package io.github.agnosticsam.conformance;

import io.github.agnosticsam.Engines;
import io.github.agnosticsam.conformance.reference.ReferenceEngine;
import io.github.agnosticsam.spi.Device;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import java.util.Map;

/**
 * The whole kit on the reference engine with flat storage: one array of all parameters, steps run
 * through {@code StepProgram.defineFlat} (and through per-tensor views for a program that does not
 * run flat): the same cases, the same tolerances as one array per parameter.
 */
class FlatReferenceEngineConformanceTest extends EngineConformanceTest {

    @Override
    protected Engine createEngine() {
        return Engines.load("reference", new EngineOptions(Device.AUTO, 0, Map.of(ReferenceEngine.STORAGE, "flat")));
    }

    @Override
    protected double relativeRounding() {
        return 1e-12;
    }
}
