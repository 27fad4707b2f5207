/**
 * Sharpness-aware training written once over an abstract tensor algebra.
 *
 * <p>{@code io.github.agnosticsam} is what a user types; {@code io.github.agnosticsam.spi} is what an
 * engine author implements; {@code io.github.agnosticsam.diagnostics} measures the curvature of a
 * network's loss on any engine. The algorithms live in a package that is exported only to the
 * conformance kit, which probes them on each engine, and to the command line; both also read and
 * write JSON with its {@code Json}.
 */
module io.github.agnosticsam.core {
    exports io.github.agnosticsam;
    exports io.github.agnosticsam.spi;
    exports io.github.agnosticsam.diagnostics;
    exports io.github.agnosticsam.spi.support;
    exports io.github.agnosticsam.internal to io.github.agnosticsam.conformance, io.github.agnosticsam.examples;

    uses io.github.agnosticsam.spi.EngineProvider;
}
