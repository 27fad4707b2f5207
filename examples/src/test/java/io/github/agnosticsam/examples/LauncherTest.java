package io.github.agnosticsam.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's stderr filter (./agnostic-sam's filter_stderr), run by bash on what the natives print, and
 * the malloc environment it gives java.
 */
class LauncherTest {
    private static final Path LAUNCHER = Path.of("..", "agnostic-sam");

    /** The MALLOC_ variables that the launcher's malloc block leaves in the environment of java. */
    private static List<String> mallocEnvironment(Map<String, String> env) throws IOException, InterruptedException {
        return mallocEnvironment(LAUNCHER.toAbsolutePath().getParent(), env);
    }

    private static List<String> mallocEnvironment(Path root, Map<String, String> env)
            throws IOException, InterruptedException {
        String script = Files.readString(LAUNCHER);
        int start = script.indexOf("if [[ -z \"${AGNOSTIC_SAM_SYSTEM_MALLOC:-}\"");
        assertThat(start).as("the launcher's malloc block").isPositive();
        String block = script.substring(start, script.indexOf("\nfi\n", start) + 4);
        ProcessBuilder builder = new ProcessBuilder("bash", "-c", "set -euo pipefail\nroot='" + root + "'\n" + block
                + "env | grep ^MALLOC_ | sort || true");
        builder.environment().keySet().removeIf(k -> k.startsWith("MALLOC_") || k.startsWith("AGNOSTIC_SAM_"));
        builder.environment().putAll(env);
        Process bash = builder.start();
        String out = new String(bash.getInputStream().readAllBytes(), UTF_8);
        assertThat(bash.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return out.lines().toList();
    }

    @Test
    void javaGetsConfigMallocEnvsSettingsUnlessTheEnvironmentSetsThemOrAsksForGlibcsDefaults() throws Exception {
        List<String> file = Files.readAllLines(Path.of("..", "config", "malloc.env")).stream()
                .filter(l -> l.startsWith("MALLOC_")).sorted().toList();
        assertThat(file).hasSize(3).anyMatch(l -> l.startsWith("MALLOC_ARENA_MAX="));
        assertThat(mallocEnvironment(Map.of())).isEqualTo(file);
        assertThat(mallocEnvironment(Map.of("MALLOC_ARENA_MAX", "4")))
                .contains("MALLOC_ARENA_MAX=4").hasSize(3).doesNotContain("MALLOC_ARENA_MAX=1");
        assertThat(mallocEnvironment(Map.of("AGNOSTIC_SAM_SYSTEM_MALLOC", "1"))).isEmpty();
    }

    @Test
    void aFileWithWindowsLineEndsAndNoLastNewlineGivesEverySettingAndAMissingOneNone(@TempDir Path root)
            throws Exception {
        Files.createDirectories(root.resolve("config"));
        Files.writeString(root.resolve("config/malloc.env"), "# a comment\r\nMALLOC_ARENA_MAX=2\r\n\nMALLOC_TOP_PAD_=7");
        assertThat(mallocEnvironment(root, Map.of())).containsExactly("MALLOC_ARENA_MAX=2", "MALLOC_TOP_PAD_=7");
        assertThat(mallocEnvironment(root.resolve("elsewhere"), Map.of())).isEmpty();
    }

    private static String filtered(String stderr) throws IOException, InterruptedException {
        String script = Files.readString(LAUNCHER);
        int start = script.indexOf("filter_stderr() {");
        String function = script.substring(start, script.indexOf("\n}\n", start) + 3);
        Process bash = new ProcessBuilder("bash", "-c", function + "filter_stderr").start();
        try (OutputStream in = bash.getOutputStream()) {
            in.write(stderr.getBytes(UTF_8));
        }
        String out = new String(bash.getInputStream().readAllBytes(), UTF_8);
        assertThat(bash.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return out;
    }

    @Test
    void dropsExactlyTheNativeLibrariesHarmlessLines() throws Exception {
        String kept = "engine tensorflow on cpu\nsgd  epoch 1/1  10% [==  ]\rsgd  epoch 1/1 100% [====]\n"
                + "WARNING: something else\nI0000 00:00:1796607698.619315    6122 other.cc:1] kept\n"
                + "agnostic-sam train: an error\n";
        String stderr = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
                + "I0000 00:00:1796607698.619315    6122 mlir_graph_optimization_pass.cc:401] MLIR V1 optimization pass "
                + "is not enabled\n"
                + "[W101 12:00:00.000000000 LegacyTypeDispatch.h:74] Warning: AutoNonVariableTypeMode is deprecated and "
                + "will be removed in 1.10 release.\n";
        assertThat(filtered(stderr + kept)).isEqualTo(kept);
    }
}
