package io.github.agnosticsam.examples;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** JSON reports of runs. */
final class Reports {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET); // OutputFiles syncs and closes the file

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

    /** Writes a report atomically (OutputFiles): a failed write leaves any old file as it was. */
    static void write(Path file, Object report) {
        OutputFiles.write(file, out -> JSON.writeValue(out, report));
    }
}
