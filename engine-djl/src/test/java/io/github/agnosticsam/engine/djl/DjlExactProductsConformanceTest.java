package io.github.agnosticsam.engine.djl;

import io.github.agnosticsam.Engines;
import io.github.agnosticsam.conformance.DiagnosticsContract;
import io.github.agnosticsam.conformance.EngineUnderTest;
import io.github.agnosticsam.spi.Device;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import java.util.Map;

/**
 * The kit's diagnostics on the DJL engine with exact Hessian-vector products ({@code
 * djl.exactProducts=true}, double backward): against PyTorch's exact Hessian of the tanh and the
 * ReLU MLP. {@link DjlEngineConformanceTest} runs the default, central differences.
 */
class DjlExactProductsConformanceTest extends EngineUnderTest implements DiagnosticsContract {
    @Override
    protected Engine createEngine() {
        return Engines.load("djl", new EngineOptions(Device.CPU, 0, Map.of(DjlEngine.EXACT_PRODUCTS, "true")));
    }
}
