package io.github.agnosticsam.conformance.reference;

import io.github.agnosticsam.Device;
import io.github.agnosticsam.Engine;
import io.github.agnosticsam.EngineOptions;
import io.github.agnosticsam.HostTensor;
import io.github.agnosticsam.ModelSpec;
import io.github.agnosticsam.Network;
import io.github.agnosticsam.spi.UnsupportedFeatureException;
import java.util.List;

/** Float64 CPU engine for MLPs (with or without BatchNorm) and CNNs; see {@link ReferenceEngineProvider}. */
public final class ReferenceEngine implements Engine {
    private boolean closed;

    public ReferenceEngine(EngineOptions options) {
        if (options.device() == Device.GPU) {
            throw new UnsupportedFeatureException("the reference engine runs on the CPU only; use --device cpu or auto");
        }
    }

    @Override
    public String name() {
        return ReferenceEngineProvider.NAME;
    }

    @Override
    public String device() {
        return "cpu (float64)";
    }

    @Override
    public Network build(ModelSpec model, List<HostTensor> initialParameters) {
        if (closed) {
            throw new IllegalStateException("the reference engine is closed");
        }
        return new ReferenceNetwork(model, initialParameters);
    }

    @Override
    public void close() {
        closed = true; // nothing native to free
    }
}
