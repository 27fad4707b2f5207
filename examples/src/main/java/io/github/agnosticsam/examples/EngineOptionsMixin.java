package io.github.agnosticsam.examples;

import io.github.agnosticsam.Engines;
import io.github.agnosticsam.spi.Device;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import java.util.Map;
import picocli.CommandLine.Option;

/** The options that choose and configure an engine, shared by every command. */
final class EngineOptionsMixin {
    @Option(names = "--device", paramLabel = "auto|cpu|gpu", defaultValue = "auto",
            description = "Where to compute (default: ${DEFAULT-VALUE}: a GPU when the engine finds one).")
    String device;

    /** The most threads --threads takes, as a multiple of the cores: more only oversubscribes them. */
    static final int THREADS_PER_CORE = 4;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
            description = "Intra-op threads, 0 to " + THREADS_PER_CORE + " x the cores (default: 0, the engine's own choice).")
    int threads;

    /** The options' ranges, checked before any work: --threads in [0, 4 × cores]. */
    void check() {
        int cores = Runtime.getRuntime().availableProcessors();
        int max = THREADS_PER_CORE * cores;
        if (threads < 0 || threads > max) {
            throw new IllegalArgumentException("--threads must be in [0, " + max + "] (0: the engine's choice; at most "
                    + THREADS_PER_CORE + " x the " + cores + " cores), got " + threads);
        }
    }

    /** Creates the engine, by name or (null) by system property and priority. */
    Engine create(String name) {
        return create(name, Map.of());
    }

    /** The same, with engine properties (an engine ignores those that are not its own). */
    Engine create(String name, Map<String, String> properties) {
        check();
        return Engines.load(name, new EngineOptions(Device.fromId(device), threads, properties));
    }
}
