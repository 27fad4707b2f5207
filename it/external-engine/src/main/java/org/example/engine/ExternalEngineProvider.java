package org.example.engine;

import io.github.agnosticsam.spi.Device;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import io.github.agnosticsam.spi.EngineProvider;
import io.github.agnosticsam.spi.UnsupportedFeatureException;

/**
 * The {@code external} engine: float64 MLPs without BatchNorm, in plain Java on the CPU, written
 * only against the published core as an outside author writes an engine of SPI 1.0. It runs on one
 * thread, so {@link EngineOptions#threads()} is ignored.
 */
public final class ExternalEngineProvider implements EngineProvider {
    static final String NAME = "external";

    /** The constant is compiled in: it records the SPI this engine was built against. */
    @Override
    public String spiVersion() {
        return SPI_VERSION;
    }

    @Override
    public String name() {
        return NAME;
    }

    /** Negative: a test engine, chosen only by name. */
    @Override
    public int priority() {
        return -1;
    }

    /** Pure Java: nothing to look for. */
    @Override
    public boolean isAvailable() {
        return true;
    }

    @Override
    public Engine create(EngineOptions options) {
        if (options.device() == Device.GPU) {
            throw new UnsupportedFeatureException("the external engine computes on the CPU only; use device cpu or auto");
        }
        return new ExternalEngine();
    }
}
