/**
 * The engine conformance kit: golden cases, the case runner, abstract JUnit 5 tests for engine
 * modules to extend, and the pure-Java float64 {@code reference} engine the kit is checked with.
 */
module io.github.agnosticsam.conformance {
    requires transitive io.github.agnosticsam.core;
    requires org.junit.jupiter.api;
    requires org.assertj.core;

    exports io.github.agnosticsam.conformance;
    exports io.github.agnosticsam.conformance.reference;
    opens io.github.agnosticsam.conformance to org.junit.platform.commons;

    provides io.github.agnosticsam.spi.EngineProvider
            with io.github.agnosticsam.conformance.reference.ReferenceEngineProvider;
}
