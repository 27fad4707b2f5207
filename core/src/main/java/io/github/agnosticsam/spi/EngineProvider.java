package io.github.agnosticsam.spi;


/**
 * The entry point of an engine, found by {@link java.util.ServiceLoader}: declare it with
 * {@code provides io.github.agnosticsam.spi.EngineProvider with ...} in module-info and in
 * {@code META-INF/services/io.github.agnosticsam.spi.EngineProvider} for class-path users.
 */
public interface EngineProvider {

    /**
     * The SPI version this core provides: {@code major.minor}. A later minor version will add only
     * default methods, so an engine built against 1.0 runs on every 1.x core; an engine built
     * against a newer minor or another major is refused with a clear error. 1.1 added data-parallel
     * steps: {@link Network#compile(StepProgram, Collective)} and the reduce point of {@link
     * GradientOracle}. 1.2 added exact Hessian-vector products: {@link
     * Network#hessianVectorProduct} and {@link Network#hasExactHessianVectorProducts}.
     */
    String SPI_VERSION = "1.2";

    /**
     * The SPI version this engine was built against. Implement it as
     * {@code return EngineProvider.SPI_VERSION;}: the constant is compiled into your class, so it
     * records the version you built with (the default, 1.0, is this first version).
     */
    default String spiVersion() {
        return "1.0";
    }

    /** Short lowercase name users select the engine by, e.g. {@code djl}. */
    String name();

    /**
     * Rank when no engine is named: the available provider with the highest priority wins (ties
     * by name). A negative priority means the engine is chosen only by name.
     */
    int priority();

    /**
     * Whether the engine can be created here. Must be cheap and free of side effects: check that
     * classes are present; load no native library and touch no network.
     */
    boolean isAvailable();

    /** Creates the engine; this is where native libraries may load. */
    Engine create(EngineOptions options);
}
