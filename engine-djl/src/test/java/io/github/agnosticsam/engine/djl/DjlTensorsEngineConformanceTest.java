package io.github.agnosticsam.engine.djl;

import io.github.agnosticsam.Engines;
import io.github.agnosticsam.conformance.EngineConformanceTest;
import io.github.agnosticsam.spi.Device;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
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
