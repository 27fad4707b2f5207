package io.github.agnosticsam.engine.djl;

import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import io.github.agnosticsam.spi.EngineProvider;

/**
 * The {@code djl} engine: DJL with its PyTorch engine. Priority 100, so it is the default engine
 * when it is on the class path. {@link #isAvailable()} only checks that classes are present: DJL's
 * engine class loads native code and may reach the network in its static initialiser, so nothing
 * of DJL is initialised until {@link #create} is called.
 */
public final class DjlEngineProvider implements EngineProvider {
    public static final String NAME = "djl";

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
        return 100;
    }

    @Override
    public boolean isAvailable() {
        ClassLoader loader = DjlEngineProvider.class.getClassLoader();
        for (String c : new String[] {"ai.djl.engine.Engine", "ai.djl.pytorch.engine.PtEngineProvider"}) {
            try {
                Class.forName(c, false, loader);
            } catch (ClassNotFoundException | LinkageError e) {
                return false;
            }
        }
        return true;
    }

    @Override
    public Engine create(EngineOptions options) {
        return DjlEngine.create(options);
    }
}
