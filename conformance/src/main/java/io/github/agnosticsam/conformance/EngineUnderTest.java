package io.github.agnosticsam.conformance;

import static io.github.agnosticsam.conformance.Kit.BN_MODEL;
import static io.github.agnosticsam.conformance.Kit.MODEL;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.agnosticsam.conformance.reference.ReferenceEngineProvider;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.spi.UnsupportedFeatureException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine under test, which every contract of the kit runs on ({@link EngineContract}): created
 * with {@link #createEngine()} once for the test class and closed after it, beside the float64
 * {@code reference} engine that some contracts compare with. Extend it and implement the contracts
 * to run, or extend {@link EngineConformanceTest}, which implements them all.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class EngineUnderTest implements EngineContract {
    private Engine engine;
    /** The float64 reference engine (checked against PyTorch): the independent model of the engine's networks. */
    private Engine reference;
    @TempDir
    private Path directory;

    /** The engine under test; created once for the class and closed after it. */
    protected abstract Engine createEngine();

    /**
     * Relative rounding allowance of the engine's arithmetic: 1e-6 for float32 (the default),
     * 1e-12 for float64.
     */
    protected double relativeRounding() {
        return 1e-6;
    }

    @BeforeAll
    void createTheEngine() {
        engine = createEngine();
        reference = new ReferenceEngineProvider().create(EngineOptions.DEFAULT);
    }

    @AfterAll
    void closeTheEngine() {
        if (engine != null) {
            engine.close();
        }
        if (reference != null) {
            reference.close();
        }
    }

    /** The engine under test. */
    protected final Engine engine() {
        return engine;
    }

    @Override
    public final EngineUnderTest kit() {
        return this;
    }

    // Helpers of the contracts.

    /** The float64 reference engine. */
    Engine reference() {
        return reference;
    }

    /** A directory for the files of the class's tests, deleted after them. */
    Path directory() {
        return directory;
    }

    boolean float64() {
        return relativeRounding() < 1e-9;
    }

    Network build(List<HostTensor> init) {
        return build(MODEL, init);
    }

    /** The engine's network of the model; aborted, not failed, when the engine does not build it. */
    Network build(ModelSpec model, List<HostTensor> init) {
        try {
            return engine.build(model, init);
        } catch (UnsupportedFeatureException e) {
            Assumptions.abort("engine does not build " + model + ": " + e.getMessage());
            throw e;
        }
    }

    /** The BatchNorm MLP when the engine builds it, so that running statistics are checked too. */
    ModelSpec statisticsModel() {
        try (Network ignored = engine.build(BN_MODEL, BN_MODEL.initialParameters(0))) {
            return BN_MODEL;
        } catch (UnsupportedFeatureException e) {
            return MODEL;
        }
    }

    /** The reference engine's network of the same model, at the engine's parameters as stored. */
    Network referenceOf(Network net) {
        return reference.build(net.model(), net.parameters());
    }

    void assertLossAgrees(String what, double actual, double expected) {
        assertThat(actual).as(what).isCloseTo(expected, within(10 * relativeRounding() * Math.max(1, Math.abs(expected))));
    }
}
