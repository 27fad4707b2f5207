package io.github.agnosticsam.engine.tensorflow;

import io.github.agnosticsam.Engines;
import io.github.agnosticsam.conformance.EngineConformanceTest;
import io.github.agnosticsam.spi.Device;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import java.util.Map;

/**
 * The whole conformance kit on the TensorFlow engine with one variable per parameter ({@code
 * tensorflow.storage=tensors}); {@link TfEngineConformanceTest} runs it on the default flat storage.
 */
class TfTensorsEngineConformanceTest extends EngineConformanceTest {
    @Override
    protected Engine createEngine() {
        return Engines.load("tensorflow", new EngineOptions(Device.CPU, 0, Map.of(TfEngine.STORAGE, "tensors")));
    }
}
