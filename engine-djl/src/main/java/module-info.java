/** The DJL (PyTorch) engine of agnostic-sam. */
module io.github.agnosticsam.engine.djl {
    requires transitive io.github.agnosticsam.core;
    requires transitive ai.djl.api;
    requires ai.djl.pytorch_engine;

    exports io.github.agnosticsam.engine.djl;

    provides io.github.agnosticsam.spi.EngineProvider with io.github.agnosticsam.engine.djl.DjlEngineProvider;
}
