package io.github.agnosticsam.examples;

import io.github.agnosticsam.Engines;
import io.github.agnosticsam.spi.EngineProvider;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** Lists the engines found, and which one is the default. */
@Command(name = "engines", mixinStandardHelpOptions = true,
        description = "Lists the engines on the class path (set AGNOSTIC_SAM_CLASSPATH to add one) and the default.")
final class EnginesCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        List<EngineProvider> providers = Engines.providers();
        for (EngineProvider p : providers) {
            out.printf("%-12s %s, SPI %s%s%n", p.name(), p.priority() < 0 ? "only by name" : "priority " + p.priority(),
                    p.spiVersion(), p.isAvailable() ? "" : ", not available");
        }
        try {
            out.println("default: " + Engines.provider(null).name());
        } catch (RuntimeException e) {
            out.println("default: none (" + e.getMessage() + ")");
        }
        out.flush();
        return 0;
    }
}
