package io.github.agnosticsam.engine.tensorflow;

import io.github.agnosticsam.Device;
import io.github.agnosticsam.Engine;
import io.github.agnosticsam.EngineOptions;
import io.github.agnosticsam.Engines;
import io.github.agnosticsam.conformance.EngineConformanceTest;
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
