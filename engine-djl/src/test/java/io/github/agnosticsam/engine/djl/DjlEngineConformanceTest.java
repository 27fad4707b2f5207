package io.github.agnosticsam.engine.djl;

import io.github.agnosticsam.Engines;
import io.github.agnosticsam.conformance.EngineConformanceTest;
import io.github.agnosticsam.spi.Device;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;

/** The whole conformance kit on the DJL engine (flat storage, its default), on the CPU, found by name through ServiceLoader. */
class DjlEngineConformanceTest extends EngineConformanceTest {
    @Override
    protected Engine createEngine() {
        return Engines.load("djl", EngineOptions.DEFAULT.withDevice(Device.CPU));
    }
}
