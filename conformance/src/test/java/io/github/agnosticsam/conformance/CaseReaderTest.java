package io.github.agnosticsam.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.agnosticsam.Adam;
import io.github.agnosticsam.AgnosticSam;
import io.github.agnosticsam.EngineOptions;
import io.github.agnosticsam.Sam;
import io.github.agnosticsam.Sgd;
import io.github.agnosticsam.conformance.reference.ReferenceEngine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CaseReaderTest {

    /** A one-step case with every optional field left out. */
    private static String minimal(String optimizer, String stepExtra) {
        return """
                {"name": "tiny",
                 "model": {"type": "mlp", "layers": [2, 2], "activation": "relu"},
                 "initialParams": [[[0.1, 0.2], [0.3, 0.4]], [0.0, 0.0]],
                 "optimizer": %s,
                 "steps": [{"train": {"x": [[1.0, 2.0]], "y": [1]}%s}],
                 "expected": [{"loss": 0.5, "params": [[[0.1, 0.2], [0.3, 0.4]], [0.0, 0.0]]}]}
                """.formatted(optimizer, stepExtra);
    }

    private static final String VALIDATION = ", \"validation\": {\"x\": [[0.5, 0.5]], \"y\": [0]}";

    @Test
    void omittedFieldsTakeTheirDefaults() throws Exception {
        ConformanceCase c = CaseReader.parse(minimal("""
                {"name": "agnostic-sam", "rho1": 0.2, "rho2": 0.1, "base": {"name": "sgd", "lr": 0.1}}""",
                VALIDATION), "t");
        AgnosticSam a = (AgnosticSam) c.optimizer();
        assertThat(a.variant()).isEqualTo(AgnosticSam.Variant.EXACT);
        assertThat(a.adaptive()).isFalse();
        assertThat(a.eta()).isEqualTo(0.01);
        assertThat(a.base()).isEqualTo(Sgd.builder().lr(0.1).build());
        assertThat(c.model().labelSmoothing()).isZero();
        assertThat(c.tolerance()).isEqualTo(ConformanceCase.Tolerance.DEFAULT);

        Adam w = (Adam) CaseReader.parse(minimal("""
                {"name": "base", "base": {"name": "adamw", "lr": 0.1}}""", ""), "t").optimizer();
        assertThat(w).isEqualTo(Adam.adamW().lr(0.1).build());
        Sam s = (Sam) CaseReader.parse(minimal("""
                {"name": "sam", "rho": 0.05, "base": {"name": "adam", "lr": 0.1}}""", ""), "t").optimizer();
        assertThat(s.eta()).isEqualTo(0.01);
        assertThat(((Adam) s.base()).weightDecay()).isZero();
    }

    @Test
    void errorsNameThePathAndWhatIsWrong() {
        String sgd = "{\"name\": \"base\", \"base\": {\"name\": \"sgd\", \"lr\": 0.1}}";
        assertThatThrownBy(() -> CaseReader.parse(minimal(sgd, "").replace("\"y\": [1]", "\"y\": [1], \"z\": 3"), "f.json"))
                .isInstanceOf(CaseFormatException.class)
                .hasMessageContaining("f.json").hasMessageContaining("$.steps[0].train.z is not a known field");
        assertThatThrownBy(() -> CaseReader.parse(minimal(sgd.replace("\"lr\"", "\"lR\""), ""), "f"))
                .hasMessageContaining("$.optimizer.base.lr is required");
        assertThatThrownBy(() -> CaseReader.parse(minimal(sgd.replace("\"lr\": 0.1", "\"lr\": 0.1, \"rho\": 1"), ""), "f"))
                .hasMessageContaining("$.optimizer.base.rho is not a known field");
        assertThatThrownBy(() -> CaseReader.parse(minimal(sgd, "").replace("[0.3, 0.4]], [0.0, 0.0]],\n \"optimizer",
                "[0.3]], [0.0, 0.0]],\n \"optimizer"), "f"))
                .hasMessageContaining("$.initialParams[0][1] must be an array of 2");
        assertThatThrownBy(() -> CaseReader.parse(minimal(sgd, "").replace("\"y\": [1]", "\"y\": [2]"), "f"))
                .hasMessageContaining("$.steps[0].train.y[0] must be a class in [0, 2), got 2");
        assertThatThrownBy(() -> CaseReader.parse(minimal(sgd, VALIDATION), "f"))
                .hasMessageContaining("only agnostic-sam steps have a validation batch");
        assertThatThrownBy(() -> CaseReader.parse(minimal(sgd.replace("0.1", "-0.1"), ""), "f"))
                .hasMessageContaining("lr must be a finite number >= 0, got -0.1");
        assertThatThrownBy(() -> CaseReader.parse(minimal(sgd.replace("sgd", "rmsprop"), ""), "f"))
                .hasMessageContaining("$.optimizer.base.name must be \"sgd\", \"adam\" or \"adamw\", got \"rmsprop\"");
        assertThatThrownBy(() -> CaseReader.parse("{\"name\": ", "broken.json"))
                .hasMessageContaining("broken.json: not valid JSON");
        assertThatThrownBy(() -> CaseReader.parse("[1, 2]", "f")).hasMessageContaining("$ must be an object");
    }

    @Test
    void badFilesAreFailuresWithAReasonNotCrashes(@TempDir Path dir) throws IOException {
        Path truncated = dir.resolve("truncated.json");
        String good = Files.readString(Path.of("src/main/resources/io/github/agnosticsam/conformance/cases/sam-relu.json"));
        Files.writeString(truncated, good.substring(0, good.length() / 2));
        Path missing = dir.resolve("absent.json");
        try (var engine = new ReferenceEngine(EngineOptions.DEFAULT)) {
            for (Path p : List.of(truncated, missing)) {
                CaseResult r = CaseRunner.run(engine, p);
                assertThat(r.outcome()).isEqualTo(CaseResult.Outcome.FAIL);
                assertThat(r.line()).startsWith(p.getFileName().toString().replace(".json", "") + " FAIL")
                        .contains(p.toString());
            }
        }
    }

    @Test
    void theSharedExampleFromAnIndependentReferencePasses() {
        Path examples = Path.of("../../shared/spec/examples");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(examples),
                "shared/spec/examples is beside the checkout");
        try (var engine = new ReferenceEngine(EngineOptions.DEFAULT); var files = Files.list(examples)) {
            List<Path> cases = files.filter(p -> p.toString().endsWith(".json")).toList();
            assertThat(cases).isNotEmpty();
            for (Path p : cases) {
                CaseResult r = CaseRunner.run(engine, p);
                assertThat(r.outcome()).as(r.line()).isEqualTo(CaseResult.Outcome.PASS);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void everyShippedCaseIsListedAndReadable() throws IOException {
        List<String> names = GoldenCases.names();
        assertThat(names).hasSize(28).isSorted();
        try (var files = Files.list(Path.of("src/main/resources/io/github/agnosticsam/conformance/cases"))) {
            assertThat(files.filter(p -> p.toString().endsWith(".json")).count()).isEqualTo(names.size());
        }
        for (String name : names) {
            assertThat(GoldenCases.load(name).name()).isEqualTo(name);
        }
    }
}
