package io.github.agnosticsam.examples;

import io.github.agnosticsam.io.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** JSON reports of runs. */
final class Reports {
    private Reports() {
    }

    static Map<String, Object> run(Map<String, Object> config, TrainingRun.Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("config", config);
        List<Map<String, Object>> history = new ArrayList<>();
        r.history().forEach(e -> history.add(e.toMap()));
        m.put("history", history);
        m.put("testAccuracy", r.testAccuracy());
        m.put("seconds", r.seconds());
        return m;
    }

    /**
     * Writes a report atomically (OutputFiles): a failed write, including a value JSON cannot hold
     * such as NaN, leaves any old file as it was.
     */
    static void write(Path file, Object report) {
        OutputFiles.write(file, out -> out.write(Json.write(report, true).getBytes(StandardCharsets.UTF_8)));
    }
}
