package io.github.agnosticsam.engine.djl;

import io.github.agnosticsam.Device;
import io.github.agnosticsam.Engine;
import io.github.agnosticsam.EngineOptions;
import io.github.agnosticsam.Engines;
import io.github.agnosticsam.conformance.EngineConformanceTest;
import java.util.Map;

/**
 * The whole conformance kit on the DJL engine with one array per parameter ({@code djl.storage=
 * tensors}, the layout DJL's Trainer integration uses); {@link DjlEngineConformanceTest} runs it on
 * the default flat storage.
 */
class DjlTensorsEngineConformanceTest extends EngineConformanceTest {
    @Override
    protected Engine createEngine() {
        return Engines.load("djl", new EngineOptions(Device.CPU, 0, Map.of(DjlEngine.STORAGE, "tensors")));
    }
}
