package io.github.agnosticsam;

import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import io.github.agnosticsam.spi.EngineProvider;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
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
        EngineProvider provider = provider(name);
        return provider.create(options);
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
            List<EngineProvider> named = providers.stream().filter(p -> p.name().equals(key)).toList();
            if (named.isEmpty()) {
                String source = name != null && !name.isBlank() ? "" : " (from system property " + PROPERTY + ")";
                throw new EngineNotFoundException("no engine named '" + key + "'" + source + ". " + listing(providers)
                        + " " + howToAdd(key));
            }
            EngineProvider p = single(named);
            if (!p.isAvailable()) {
                throw new EngineNotFoundException("engine '" + key + "' is on the class path but not "
                        + "available here (a class or native library it needs is missing). " + listing(providers)
                        + " " + howToAdd(key));
            }
            checkSpiVersion(p);
            return p;
        }
        EngineProvider chosen = providers.stream()
                .filter(p -> p.priority() >= 0 && p.isAvailable() && spiProblem(p) == null)
                .max(Comparator.comparingInt(EngineProvider::priority)
                        .thenComparing(EngineProvider::name, Comparator.reverseOrder()))
                .orElseThrow(() -> new EngineNotFoundException("no engine to choose by priority. "
                        + listing(providers) + " " + howToAdd(null)));
        return single(providers.stream().filter(p -> p.name().equals(chosen.name())).toList());
    }

    /** The one provider of a name; two jars that provide one name are an error, not a coin toss. */
    private static EngineProvider single(List<EngineProvider> sameName) {
        if (sameName.size() > 1) {
            StringBuilder classes = new StringBuilder();
            for (EngineProvider p : sameName) {
                classes.append(classes.length() == 0 ? "" : ", ").append(p.getClass().getName());
            }
            throw new EngineNotFoundException(sameName.size() + " engine providers are named '" + sameName.get(0).name()
                    + "' (" + classes + "): keep one of their jars on the class path");
        }
        return sameName.get(0);
    }

    private static void checkSpiVersion(EngineProvider p) {
        String problem = spiProblem(p);
        if (problem != null) {
            throw new EngineNotFoundException("engine '" + p.name() + "' (" + p.getClass().getName() + ") " + problem);
        }
    }

    /** Why this core cannot run the provider's SPI version, or null when it can. */
    static String spiProblem(EngineProvider p) {
        String declared = p.spiVersion();
        int[] core = version(EngineProvider.SPI_VERSION);
        int[] engine = declared == null ? null : version(declared);
        if (engine == null) {
            return "declares SPI version '" + declared + "', expected major.minor such as " + EngineProvider.SPI_VERSION;
        }
        if (engine[0] != core[0] || engine[1] > core[1]) {
            return "was built against SPI " + declared + ", but agnostic-sam-core here provides SPI "
                    + EngineProvider.SPI_VERSION + (engine[0] > core[0] || (engine[0] == core[0] && engine[1] > core[1])
                            ? ": use an agnostic-sam-core that provides SPI " + declared
                            : ": use a version of the engine built for SPI " + core[0] + ".x");
        }
        return null;
    }

    private static int[] version(String v) {
        String[] parts = v.trim().split("\\.");
        if (parts.length != 2) {
            return null;
        }
        try {
            return new int[] {Integer.parseInt(parts[0]), Integer.parseInt(parts[1])};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static String listing(List<EngineProvider> providers) {
        StringBuilder sb = new StringBuilder("Engines found: ");
        if (providers.isEmpty()) {
            sb.append("none");
        }
        for (int i = 0; i < providers.size(); i++) {
            EngineProvider p = providers.get(i);
            String spi = spiProblem(p);
            sb.append(i == 0 ? "" : ", ").append(p.name()).append(" (")
                    .append(p.priority() < 0 ? "chosen only by name" : "priority " + p.priority())
                    .append(p.isAvailable() ? "" : ", not available")
                    .append(spi == null ? "" : ", built for SPI " + p.spiVersion()).append(')');
        }
        return sb.append('.').toString();
    }

    /** The artifact that brings the engine asked for, or a general hint naming every published engine. */
    private static String howToAdd(String name) {
        Properties published = Published.TABLE;
        String artifact = name == null ? null : published.getProperty(name);
        if (artifact != null) {
            return "To use it, add " + artifact + " (with its dependencies) to the class path or module path.";
        }
        List<String> artifacts = published.stringPropertyNames().stream().sorted().map(published::getProperty)
                .toList();
        return "To add an engine, put an engine module on the class path" + (artifacts.isEmpty() ? ""
                : ", e.g. " + String.join(" or ", artifacts)) + ", or any jar that provides "
                + EngineProvider.class.getName() + ".";
    }

    /** The engines this project publishes (engines.properties), loaded when a message first needs them. */
    private static final class Published {
        static final Properties TABLE = load();

        private static Properties load() {
            Properties table = new Properties();
            try (var in = Engines.class.getResourceAsStream("engines.properties")) {
                if (in != null) {
                    table.load(in);
                }
            } catch (java.io.IOException e) {
                // Only a hint is lost: the message still lists the engines found.
            }
            return table;
        }
    }
}
