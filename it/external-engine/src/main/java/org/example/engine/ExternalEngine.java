package org.example.engine;

import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.spi.UnsupportedFeatureException;
import java.util.List;

/** Builds {@link ExternalNetwork}s; it holds nothing native, so closing it only refuses later builds. */
final class ExternalEngine implements Engine {
    private boolean closed;

    @Override
    public String name() {
        return ExternalEngineProvider.NAME;
    }

    @Override
    public String device() {
        return "cpu (float64)";
    }

    @Override
    public Network build(ModelSpec model, List<HostTensor> initialParameters) {
        if (closed) {
            throw new IllegalStateException("engine is closed (" + name() + ")");
        }
        if (model == null) {
            throw new IllegalArgumentException("model must not be null");
        }
        if (!(model instanceof ModelSpec.Mlp mlp) || mlp.batchNorm()) {
            throw new UnsupportedFeatureException("the external engine builds only MLPs without BatchNorm, not "
                    + model);
        }
        return new ExternalNetwork(mlp, initialParameters);
    }

    @Override
    public void close() {
        closed = true;
    }
}
