package io.github.agnosticsam.conformance.reference;

import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import io.github.agnosticsam.spi.EngineProvider;

/**
 * The {@code reference} engine: pure Java, float64, CPU. It exists to test the core and the
 * conformance kit without native code, not to train real models, so it is chosen only by name.
 */
public final class ReferenceEngineProvider implements EngineProvider {
    public static final String NAME = "reference";

    @Override
    public String name() {
        return NAME;
    }

    /** Negative: never chosen by priority, only by name. */
    /** The SPI this engine was built against: the constant is compiled in. */
    @Override
    public String spiVersion() {
        return SPI_VERSION;
    }

    @Override
    public int priority() {
        return Integer.MIN_VALUE;
    }

    @Override
    public boolean isAvailable() {
        return true;
    }

    @Override
    public Engine create(EngineOptions options) {
        return new ReferenceEngine(options);
    }
}
