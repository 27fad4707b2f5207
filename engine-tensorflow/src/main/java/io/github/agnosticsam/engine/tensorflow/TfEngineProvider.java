package io.github.agnosticsam.engine.tensorflow;

import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import io.github.agnosticsam.spi.EngineProvider;

/**
 * The {@code tensorflow} engine: TensorFlow Java in graph mode. Priority 50. {@link #isAvailable()}
 * checks that the classes are there without initialising them (TensorFlow loads its native
 * library when its classes initialise).
 */
public final class TfEngineProvider implements EngineProvider {
    public static final String NAME = "tensorflow";

    @Override
    public String name() {
        return NAME;
    }

    /** The SPI this engine was built against: the constant is compiled in. */
    @Override
    public String spiVersion() {
        return SPI_VERSION;
    }

    @Override
    public int priority() {
        return 50;
    }

    @Override
    public boolean isAvailable() {
        try {
            Class.forName("org.tensorflow.Graph", false, TfEngineProvider.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    @Override
    public Engine create(EngineOptions options) {
        return TfEngine.create(options);
    }
}
