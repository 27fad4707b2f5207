package org.example.engine;

import io.github.agnosticsam.conformance.reference.ReferenceEngineProvider;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import io.github.agnosticsam.spi.EngineProvider;
import io.github.agnosticsam.spi.Network;
import java.util.List;

/**
 * An engine named {@code external}, written as an engine of SPI 1.0 was: it does not declare
 * {@code spiVersion()}, and every 1.x core must still find it, run it and pass it through the kit.
 */
public final class ExternalEngineProvider implements EngineProvider {

    @Override
    public String name() {
        return "external";
    }

    @Override
    public int priority() {
        return -1;
    }

    @Override
    public boolean isAvailable() {
        return true;
    }

    @Override
    public Engine create(EngineOptions options) {
        Engine inner = new ReferenceEngineProvider().create(options);
        return new Engine() {
            @Override
            public String name() {
                return "external";
            }

            @Override
            public String device() {
                return inner.device();
            }

            @Override
            public Network build(ModelSpec model, List<HostTensor> initialParameters) {
                return inner.build(model, initialParameters);
            }

            @Override
            public void close() {
                inner.close();
            }
        };
    }
}
