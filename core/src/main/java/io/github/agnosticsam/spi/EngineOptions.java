package io.github.agnosticsam.spi;

import java.util.Map;

/**
 * How to create an engine: the device, the number of intra-op threads (0: the engine's
 * default) and engine-specific settings (documented by each engine).
 */
public record EngineOptions(Device device, int threads, Map<String, String> properties) {

    public static final EngineOptions DEFAULT = new EngineOptions(Device.AUTO, 0, Map.of());

    public EngineOptions {
        if (device == null) {
            throw new IllegalArgumentException("device must not be null");
        }
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be >= 0 (0: the engine's default), got " + threads);
        }
        properties = Map.copyOf(properties);
    }

    public EngineOptions withDevice(Device d) {
        return new EngineOptions(d, threads, properties);
    }

    public EngineOptions withThreads(int n) {
        return new EngineOptions(device, n, properties);
    }
}
