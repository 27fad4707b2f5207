package io.github.agnosticsam.engine.djl;

import io.github.agnosticsam.Device;
import io.github.agnosticsam.Engine;
import io.github.agnosticsam.EngineOptions;
import io.github.agnosticsam.Engines;
import io.github.agnosticsam.conformance.EngineConformanceTest;

/** The whole conformance kit on the DJL engine (flat storage, its default), on the CPU, found by name through ServiceLoader. */
class DjlEngineConformanceTest extends EngineConformanceTest {
    @Override
    protected Engine createEngine() {
        return Engines.load("djl", EngineOptions.DEFAULT.withDevice(Device.CPU));
    }
}
