package io.github.agnosticsam.conformance.reference;

import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.spi.Device;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.spi.UnsupportedFeatureException;
import java.util.List;

/** Float64 CPU engine for MLPs (with or without BatchNorm) and CNNs; see {@link ReferenceEngineProvider}. */
public final class ReferenceEngine implements Engine {
    /** Engine property: {@code tensors} (default, one array per parameter) or {@code flat} (one array of all). */
    public static final String STORAGE = "reference.storage";

    private final boolean flat;
    private boolean closed;

    public ReferenceEngine(EngineOptions options) {
        if (options.device() == Device.GPU) {
            throw new UnsupportedFeatureException("the reference engine runs on the CPU only; use --device cpu or auto");
        }
        String storage = options.properties().getOrDefault(STORAGE, "tensors");
        if (!storage.equals("tensors") && !storage.equals("flat")) {
            throw new IllegalArgumentException(STORAGE + " must be tensors or flat, got '" + storage + "'");
        }
        this.flat = storage.equals("flat");
    }

    @Override
    public String name() {
        return ReferenceEngineProvider.NAME;
    }

    @Override
    public String device() {
        return flat ? "cpu (float64, flat storage)" : "cpu (float64)";
    }

    @Override
    public Network build(ModelSpec model, List<HostTensor> initialParameters) {
        if (closed) {
            throw new IllegalStateException("the reference engine is closed");
        }
        return new ReferenceNetwork(model, initialParameters, flat);
    }

    @Override
    public void close() {
        closed = true; // nothing native to free
    }
}
