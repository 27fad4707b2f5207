package io.github.agnosticsam.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The launcher's stderr filter (./agnostic-sam's filter_stderr), run by bash on what the natives print. */
class LauncherTest {
    private static String filtered(String stderr) throws IOException, InterruptedException {
        String script = Files.readString(Path.of("..", "agnostic-sam"));
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
