package io.github.agnosticsam.engine.tensorflow;

import io.github.agnosticsam.Engines;
import io.github.agnosticsam.conformance.EngineConformanceTest;
import io.github.agnosticsam.spi.Device;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;

/**
 * The whole conformance kit on the TensorFlow engine (flat storage, its default), on the CPU, found by
 * name through ServiceLoader; {@link TfTensorsEngineConformanceTest} runs it with one variable per tensor.
 */
class TfEngineConformanceTest extends EngineConformanceTest {
    @Override
    protected Engine createEngine() {
        return Engines.load("tensorflow", EngineOptions.DEFAULT.withDevice(Device.CPU));
    }
}
