package io.github.agnosticsam.conformance;

import io.github.agnosticsam.Engines;
import io.github.agnosticsam.spi.EngineProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;

/**
 * Run by the kit in a fresh JVM: finds the provider named by the argument, calls
 * {@code isAvailable()}, and reports the native libraries (outside the JDK) that the call mapped
 * into the process, read from {@code /proc/self/maps}. Exit status 0 when it could tell.
 */
public final class AvailabilityProbe {
    private AvailabilityProbe() {
    }

    public static void main(String[] args) throws IOException {
        EngineProvider provider = Engines.providers().stream().filter(p -> p.name().equals(args[0])).findFirst()
                .orElseThrow(() -> new IllegalStateException("no provider named " + args[0]));
        Set<String> before = nativeLibraries();
        boolean available = provider.isAvailable();
        Set<String> loaded = nativeLibraries();
        loaded.removeAll(before);
        if (!Files.exists(Path.of("/proc/self/maps"))) {
            System.out.println("cannot tell: no /proc/self/maps on this system");
        } else if (!available) {
            System.out.println("not available");
        } else if (loaded.isEmpty()) {
            System.out.println("available, no native library loaded");
        } else {
            System.out.println("available, but isAvailable() loaded " + loaded);
        }
    }

    /** Shared objects mapped into this process, except the JDK's own. */
    private static Set<String> nativeLibraries() throws IOException {
        Set<String> out = new TreeSet<>();
        Path maps = Path.of("/proc/self/maps");
        if (!Files.exists(maps)) {
            return out; // not Linux: main says it cannot tell
        }
        String jdk = System.getProperty("java.home");
        for (String line : Files.readAllLines(maps)) {
            int slash = line.indexOf('/');
            if (slash >= 0) {
                String file = line.substring(slash);
                if (file.contains(".so") && !file.startsWith(jdk)) {
                    out.add(file);
                }
            }
        }
        return out;
    }
}
