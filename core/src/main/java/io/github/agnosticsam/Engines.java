package io.github.agnosticsam;

import io.github.agnosticsam.spi.EngineProvider;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Finds engines on the class path or module path. An engine is chosen by name; else by the system
 * property {@value #PROPERTY}; else the available engine with the highest priority (ties by name).
 * Engines with a negative priority, such as {@code reference}, are chosen only by name. Discovery
 * creates nothing: native libraries load only when an engine is created.
 */
public final class Engines {
    /** System property naming the engine to use when none is named in code. */
    public static final String PROPERTY = "agnosticsam.engine";

    private Engines() {
    }

    /** The engine chosen by {@link #PROPERTY} or priority, created with default options. */
    public static Engine load() {
        return load(null, EngineOptions.DEFAULT);
    }

    /**
     * Creates an engine: the one named (null: by system property, then by priority).
     *
     * @throws EngineNotFoundException when no available engine matches
     */
    public static Engine load(String name, EngineOptions options) {
        return provider(name).create(options);
    }

    /** The provider that {@link #load(String, EngineOptions)} would use. */
    public static EngineProvider provider(String name) {
        return select(providers(), name, System.getProperty(PROPERTY));
    }

    /** Every provider found, highest priority first. */
    public static List<EngineProvider> providers() {
        List<EngineProvider> found = new ArrayList<>();
        var iterator = ServiceLoader.load(EngineProvider.class).iterator();
        while (true) {
            try {
                if (!iterator.hasNext()) {
                    break;
                }
                found.add(iterator.next());
            } catch (ServiceConfigurationError e) {
                // A broken provider must not hide the others; it is simply not listed.
                System.getLogger(Engines.class.getName()).log(System.Logger.Level.WARNING,
                        "skipping an engine provider that failed to load: " + e.getMessage());
            }
        }
        found.sort(Comparator.comparingInt(EngineProvider::priority).reversed()
                .thenComparing(EngineProvider::name));
        return found;
    }

    static EngineProvider select(List<EngineProvider> providers, String name, String propertyValue) {
        String wanted = name != null && !name.isBlank() ? name
                : propertyValue != null && !propertyValue.isBlank() ? propertyValue : null;
        if (wanted != null) {
            String key = wanted.trim().toLowerCase(Locale.ROOT);
            for (EngineProvider p : providers) {
                if (p.name().equals(key)) {
                    if (!p.isAvailable()) {
                        throw new EngineNotFoundException("engine '" + key + "' is on the class path but not "
                                + "available here (a class or native library it needs is missing). " + listing(providers));
                    }
                    return p;
                }
            }
            String source = name != null && !name.isBlank() ? "" : " (from system property " + PROPERTY + ")";
            throw new EngineNotFoundException("no engine named '" + key + "'" + source + ". " + listing(providers));
        }
        return providers.stream()
                .filter(p -> p.priority() >= 0 && p.isAvailable())
                .max(Comparator.comparingInt(EngineProvider::priority)
                        .thenComparing(EngineProvider::name, Comparator.reverseOrder()))
                .orElseThrow(() -> new EngineNotFoundException("no engine to choose by priority. "
                        + listing(providers)));
    }

    private static String listing(List<EngineProvider> providers) {
        StringBuilder sb = new StringBuilder("Engines found: ");
        if (providers.isEmpty()) {
            sb.append("none");
        }
        for (int i = 0; i < providers.size(); i++) {
            EngineProvider p = providers.get(i);
            sb.append(i == 0 ? "" : ", ").append(p.name()).append(" (")
                    .append(p.priority() < 0 ? "chosen only by name" : "priority " + p.priority())
                    .append(p.isAvailable() ? "" : ", not available").append(')');
        }
        return sb.append(". To add one, put an engine module on the class path, e.g. "
                + "io.github.agnosticsam:agnostic-sam-engine-djl, or any jar that provides "
                + EngineProvider.class.getName() + ".").toString();
    }
}
