package io.github.agnosticsam.spi;

import io.github.agnosticsam.training.Training;

/** A planted upward dependency for LayersTest: the engine SPI reaching into the training layer above it. */
public final class UpwardDependency {
    private UpwardDependency() {
    }

    public static Class<?> up() {
        return Training.class;
    }
}
