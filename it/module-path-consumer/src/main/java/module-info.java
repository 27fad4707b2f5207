/**
 * A user's application as a named module. It requires only the core: the engine modules on the
 * module path are bound through the core's {@code uses io.github.agnosticsam.spi.EngineProvider}.
 */
module org.example.consumer {
    requires io.github.agnosticsam.core;
}
