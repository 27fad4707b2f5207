package io.github.agnosticsam.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** JSON reports of runs. */
final class Reports {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

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

    static void write(Path file, Object report) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            JSON.writeValue(file.toFile(), report);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
