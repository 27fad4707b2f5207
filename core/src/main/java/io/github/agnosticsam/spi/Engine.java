package io.github.agnosticsam.spi;

import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import java.util.List;

/**
 * An autodiff engine, created by {@code Engines.load}. It builds networks from neutral
 * {@link ModelSpec}s; closing it frees what it holds natively.
 */
public interface Engine extends AutoCloseable {

    /** The provider's name, e.g. {@code djl}. */
    String name();

    /** Where it computes, e.g. {@code cpu} or {@code gpu(0)}. */
    String device();

    /**
     * Builds the model with the given initial parameter values (shapes as
     * {@link ModelSpec#parameterShapes()}).
     *
     * @throws io.github.agnosticsam.spi.UnsupportedFeatureException if this engine cannot build it
     */
    Network build(ModelSpec model, List<HostTensor> initialParameters);

    @Override
    void close();
}
