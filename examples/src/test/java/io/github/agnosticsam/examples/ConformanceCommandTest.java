package io.github.agnosticsam.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.agnosticsam.conformance.GoldenCases;
import io.github.agnosticsam.spi.EngineProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConformanceCommandTest {
    private static final Path SHIPPED = Path.of("../conformance/src/main/resources/io/github/agnosticsam/conformance/cases");

    private static Cli run(String... args) {
        return Cli.run(args);
    }

    @Test
    void shippedCasesPassOnTheReferenceEngine() {
        Cli r = run("conformance", "--engine", "reference", SHIPPED.toString());
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        String[] lines = r.out().split("\n");
        int cases = GoldenCases.names().size();
        assertThat(cases).isGreaterThanOrEqualTo(60);
        assertThat(lines).hasSize(cases + 1);
        assertThat(lines[0]).startsWith("adam-long-relu PASS worst ");
        assertThat(lines[cases]).isEqualTo(cases + " passed, 0 failed, 0 skipped");
    }

    @Test
    void contractFlagChecksEveryTensorOperation() {
        Cli r = run("conformance", "--engine", "reference", "--precision", "float64", "--contract");
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("allFinite: ").contains("concat: ").doesNotContain(" FAIL ")
                .containsPattern("\\n[0-9]{2,} passed, 0 failed, 0 skipped\\n$");
        Cli wrongPrecision = run("conformance", "--engine", "reference", "--precision", "float16", "--contract");
        assertThat(wrongPrecision.exit()).isEqualTo(2);
        assertThat(wrongPrecision.err()).contains("--precision must be float32 or float64, got 'float16'");
    }

    @Test
    void goldenFlagRunsTheCasesFromTheKit() {
        Cli r = run("conformance", "--engine", "reference", "--golden");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).endsWith(GoldenCases.names().size() + " passed, 0 failed, 0 skipped\n");
    }

    @Test
    void malformedAndWrongCasesFailWithTheirReasonOnTheirLine(@TempDir Path dir) throws IOException {
        String good = Files.readString(SHIPPED.resolve("sam-tanh.json"));
        Files.writeString(dir.resolve("a-good.json"), good);
        Files.writeString(dir.resolve("b-broken.json"), good.substring(0, 100));
        // Same case, but claiming a different radius: the engine's numbers no longer match.
        Files.writeString(dir.resolve("c-wrong.json"), good.replace("\"rho\": 0.3", "\"rho\": 0.31")
                .replace("\"name\": \"sam-tanh\"", "\"name\": \"wrong-rho\""));
        Files.writeString(dir.resolve("notes.txt"), "not a case");
        Cli r = run("conformance", "--engine", "reference", dir.toString());
        assertThat(r.exit()).isEqualTo(1);
        String[] lines = r.out().split("\n");
        assertThat(lines).hasSize(4);
        assertThat(lines[0]).startsWith("sam-tanh PASS");
        assertThat(lines[1]).startsWith("b-broken FAIL").contains("not valid JSON");
        assertThat(lines[2]).startsWith("wrong-rho FAIL worst ").contains("first at step 0, parameter W0[");
        assertThat(lines[3]).isEqualTo("1 passed, 2 failed, 0 skipped");
        assertThat(r.err()).isEmpty();
    }

    @Test
    void usageErrorsExitWith2() {
        Cli unknown = run("conformance", "--engine", "nope", SHIPPED.toString());
        assertThat(unknown.exit()).isEqualTo(2);
        assertThat(unknown.err()).contains("no engine named 'nope'").contains("reference (chosen only by name)");

        Cli missing = run("conformance", "--engine", "reference", "does/not/exist");
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.err()).contains("no such file or folder: does/not/exist");

        assertThat(run("conformance", SHIPPED.toString()).exit()).isEqualTo(2);
        assertThat(run("conformance", "--engine", "reference").exit()).isEqualTo(2);
        assertThat(run("conformance", "--engine", "reference", "--device", "tpu", SHIPPED.toString()).err())
                .contains("device must be auto, cpu or gpu, got 'tpu'");
    }

    @Test
    void emptyFolderIsAUsageError(@TempDir Path dir) {
        Cli r = run("conformance", "--engine", "reference", dir.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("no case found");
    }

    @Test
    void enginesCommandListsTheReferenceEngine() {
        Cli r = run("engines");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("reference").contains("only by name");
        // The engines of this project declare the SPI they are built against (not the 1.0 default).
        for (String engine : new String[] {"reference", "djl", "tensorflow"}) {
            assertThat(r.out()).containsPattern("(?m)^" + engine + " .*SPI " + EngineProvider.SPI_VERSION.replace(".", "\\.") + "$");
        }
    }
}
