package io.github.agnosticsam.examples;

import io.github.agnosticsam.Device;
import io.github.agnosticsam.Engine;
import io.github.agnosticsam.EngineOptions;
import io.github.agnosticsam.Engines;
import java.util.Map;
import picocli.CommandLine.Option;

/** The options that choose and configure an engine, shared by every command. */
final class EngineOptionsMixin {
    @Option(names = "--device", paramLabel = "auto|cpu|gpu", defaultValue = "auto",
            description = "Where to compute (default: ${DEFAULT-VALUE}: a GPU when the engine finds one).")
    String device;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
            description = "Intra-op threads (default: 0, the engine's own choice).")
    int threads;

    /** Creates the engine, by name or (null) by system property and priority. */
    Engine create(String name) {
        return Engines.load(name, new EngineOptions(Device.fromId(device), threads, Map.of()));
    }
}
