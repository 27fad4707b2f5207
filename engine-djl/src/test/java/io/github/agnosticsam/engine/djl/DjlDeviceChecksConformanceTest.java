package io.github.agnosticsam.engine.djl;

import io.github.agnosticsam.Engines;
import io.github.agnosticsam.conformance.EngineConformanceTest;
import io.github.agnosticsam.spi.Device;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import java.util.Map;

/**
 * The whole conformance kit on the DJL engine with the finite checks and selects kept on the device
 * ({@code djl.checks=device}, what a GPU runs); {@link DjlEngineConformanceTest} runs the CPU's
 * default, verdicts read on the host.
 */
class DjlDeviceChecksConformanceTest extends EngineConformanceTest {
    @Override
    protected Engine createEngine() {
        return Engines.load("djl", new EngineOptions(Device.CPU, 0, Map.of(DjlEngine.CHECKS, "device")));
    }
}
