package io.github.agnosticsam.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.agnosticsam.conformance.reference.ReferenceEngine;
import io.github.agnosticsam.io.Json;
import io.github.agnosticsam.model.Activation;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.Adam;
import io.github.agnosticsam.optim.AgnosticSam;
import io.github.agnosticsam.optim.Sam;
import io.github.agnosticsam.optim.Schedule;
import io.github.agnosticsam.optim.Sgd;
import io.github.agnosticsam.spi.EngineOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
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
                .hasMessage("broken.json: not valid JSON at $.name (line 1, column 10): expected a JSON value, got the end "
                        + "of the text");
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
        assertThat(names).hasSize(72).isSorted();
        try (var files = Files.list(Path.of("src/main/resources/io/github/agnosticsam/conformance/cases"))) {
            assertThat(files.filter(p -> p.toString().endsWith(".json")).count()).isEqualTo(names.size());
        }
        for (String name : names) {
            ConformanceCase c = GoldenCases.load(name);
            assertThat(c.name()).isEqualTo(name);
            assertThat(c.expected()).allSatisfy(e -> assertThat(e.statistics()).hasSize(
                    c.model().statisticNames().size()));
        }
        // The 28 version-1 cases have no evaluation; each of the 33 version-2 and 11 version-3 cases has one.
        assertThat(names.stream().filter(n -> GoldenCases.load(n).replicas() > 1)).hasSize(11);
        assertThat(names.stream().filter(n -> GoldenCases.load(n).evaluation().isPresent())).hasSize(44);
    }

    // Format version 2.

    private static final String SGD = "{\"name\": \"base\", \"base\": {\"name\": \"sgd\", \"lr\": 0.1}}";

    /** The minimal case as a tree, to change one field at a time. */
    private static Map<String, Object> tree(String optimizer, String stepExtra) {
        return object(Json.parse(minimal(optimizer, stepExtra)));
    }

    private static ConformanceCase parse(Map<String, Object> tree) throws Exception {
        return CaseReader.parse(Json.write(tree), "v2.json");
    }

    private static void set(Map<String, Object> tree, String field, String json) {
        tree.put(field, Json.parse(json));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Object node) {
        return (Map<String, Object>) node;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> array(Map<String, Object> parent, String field) {
        return (List<Object>) parent.get(field);
    }

    /** The train batch of the first step. */
    private static Map<String, Object> train(Map<String, Object> tree) {
        return object(object(array(tree, "steps").get(0)).get("train"));
    }

    /** The first expected entry. */
    private static Map<String, Object> expected(Map<String, Object> tree) {
        return object(array(tree, "expected").get(0));
    }

    /** A nested JSON array of the given shape, every element {@code value}. */
    private static String filled(double value, int... shape) {
        if (shape.length == 0) {
            return Double.toString(value);
        }
        String inner = filled(value, Arrays.copyOfRange(shape, 1, shape.length));
        return IntStream.range(0, shape[0]).mapToObj(i -> inner).collect(Collectors.joining(", ", "[", "]"));
    }

    /** The minimal case with two steps and the given optimizer (and validation batches when asked). */
    private static Map<String, Object> twoSteps(String optimizer, boolean validation) {
        Map<String, Object> t = tree(optimizer, validation ? VALIDATION : "");
        array(t, "steps").add(Json.parse(Json.write(array(t, "steps").get(0))));
        array(t, "expected").add(Json.parse(Json.write(expected(t))));
        return t;
    }

    @Test
    void replicasDefaultToOneAndMustSplitEveryBatchEvenly() throws Exception {
        assertThat(parse(tree(SGD, "")).replicas()).isEqualTo(1);
        Map<String, Object> two = tree(SGD, "");
        set(two, "replicas", "2");
        set(train(two), "x", "[[1.0, 2.0], [3.0, 4.0]]");
        set(train(two), "y", "[1, 0]");
        assertThat(parse(two).replicas()).isEqualTo(2);
        set(two, "replicas", "4");
        assertThatThrownBy(() -> parse(two)).hasMessageContaining("$.steps[0].train has 2 examples, which 4 "
                + "replicas cannot split into equal shards");
        for (String bad : List.of("0", "1.5", "\"2\"")) {
            set(two, "replicas", bad);
            assertThatThrownBy(() -> parse(two)).as(bad).hasMessageContaining("$.replicas must be a whole number >= 1");
        }
    }

    @Test
    void perStepValuesArePerStepSchedules() throws Exception {
        ConformanceCase c = parse(twoSteps("""
                {"name": "agnostic-sam", "rho1": [0.2, 0.3], "rho2": [0.1, 0.0, 5.0],
                 "base": {"name": "sgd", "lr": [0.1, 0.0], "momentum": 0.9}}""", true));
        AgnosticSam a = (AgnosticSam) c.optimizer();
        assertThat(a.rho1()).isEqualTo(Schedule.perStep(0.2, 0.3));
        assertThat(a.rho2()).isEqualTo(Schedule.perStep(0.1, 0.0, 5.0));
        assertThat(((Sgd) a.base()).lr()).isEqualTo(Schedule.perStep(0.1, 0.0));
        assertThat(a.isPlainSam()).as("a per-step rho2 is a schedule even where it is 0").isFalse();
        assertThat(a.gradientEvaluations()).isEqualTo(4);
        Sam s = (Sam) parse(twoSteps("""
                {"name": "sam", "rho": [0.05, 0.5], "base": {"name": "adam", "lr": [0.01, 0.02]}}""", false))
                .optimizer();
        assertThat(s.rho()).isEqualTo(Schedule.perStep(0.05, 0.5));
        assertThat(((Adam) s.base()).lr().at(1)).isEqualTo(0.02);
        assertThat(((Sam) parse(twoSteps("""
                {"name": "sam", "rho": 0.05, "base": {"name": "sgd", "lr": 0.1}}""", false)).optimizer()).rho())
                .isEqualTo(Schedule.constant(0.05));
    }

    @Test
    void perStepErrorsNameTheValue() {
        assertThatThrownBy(() -> parse(twoSteps("""
                {"name": "sam", "rho": [0.05], "base": {"name": "sgd", "lr": 0.1}}""", false)))
                .hasMessageContaining("$.optimizer.rho has 1 values, but there are 2 steps");
        assertThatThrownBy(() -> parse(twoSteps("""
                {"name": "sam", "rho": 0.05, "base": {"name": "sgd", "lr": [0.1, -0.5]}}""", false)))
                .hasMessageContaining("$.optimizer.base.lr[1] must be a finite number >= 0, got -0.5");
        assertThatThrownBy(() -> parse(twoSteps("""
                {"name": "agnostic-sam", "rho1": [], "rho2": 0.1, "base": {"name": "sgd", "lr": 0.1}}""", true)))
                .hasMessageContaining("$.optimizer.rho1 is an empty array");
        assertThatThrownBy(() -> parse(twoSteps("""
                {"name": "agnostic-sam", "rho1": 0.2, "rho2": [0.1, "x"], "base": {"name": "sgd", "lr": 0.1}}""",
                true))).hasMessageContaining("$.optimizer.rho2[1] must be a number, got string");
    }

    /** An mlp 2-3-2 with BatchNorm: W0 [3, 2], gamma0, beta0 [3], W1 [2, 3], b1 [2]; mean0, var0 [3]. */
    private static Map<String, Object> batchNormCase() {
        Map<String, Object> t = tree(SGD, "");
        set(t, "model", "{\"type\": \"mlp\", \"layers\": [2, 3, 2], \"activation\": \"tanh\", \"batchNorm\": true}");
        String params = "[" + filled(0.1, 3, 2) + ", " + filled(1, 3) + ", " + filled(0, 3) + ", " + filled(0.2, 2, 3)
                + ", " + filled(0, 2) + "]";
        set(t, "initialParams", params);
        Map<String, Object> expected = expected(t);
        set(expected, "params", params);
        set(expected, "statistics", "[[0.1, 0.2, 0.3], [0.9, 0.8, 0.7]]");
        train(t).put("x", Json.parse("[[1.0, 2.0], [0.5, -1.0]]"));
        train(t).put("y", Json.parse("[1, 0]"));
        return t;
    }

    @Test
    void batchNormModelsHaveRunningStatistics() throws Exception {
        ConformanceCase c = parse(batchNormCase());
        assertThat(c.model()).isEqualTo(new ModelSpec.Mlp(new int[] {2, 3, 2}, Activation.TANH, 0, true));
        assertThat(c.initialStatistics()).as("omitted: means 0, variances 1")
                .isEqualTo(c.model().initialStatistics());
        assertThat(c.expected().get(0).statistics()).containsExactly(
                HostTensor.of(new double[] {0.1, 0.2, 0.3}, 3), HostTensor.of(new double[] {0.9, 0.8, 0.7}, 3));
        Map<String, Object> given = batchNormCase();
        set(given, "initialStatistics", "[[0.5, 0.5, 0.5], [2, 2, 2]]");
        assertThat(parse(given).initialStatistics().get(1)).isEqualTo(HostTensor.of(new double[] {2, 2, 2}, 3));
        assertThat(parse(tree(SGD, "")).initialStatistics()).isEmpty();
        assertThat(parse(tree(SGD, "")).model()).isEqualTo(new ModelSpec.Mlp(new int[] {2, 2}, Activation.RELU, 0));
    }

    @Test
    void batchNormErrorsNameThePath() throws Exception {
        Map<String, Object> missing = batchNormCase();
        expected(missing).remove("statistics");
        assertThatThrownBy(() -> parse(missing)).hasMessageContaining("$.expected[0].statistics is required");
        Map<String, Object> count = batchNormCase();
        set(count, "initialStatistics", "[[0, 0, 0]]");
        assertThatThrownBy(() -> parse(count))
                .hasMessageContaining("$.initialStatistics has 1 tensors, but the model has 2 (mean0, var0)");
        Map<String, Object> shape = batchNormCase();
        set(expected(shape), "statistics", "[[0, 0, 0], [1, 1]]");
        assertThatThrownBy(() -> parse(shape))
                .hasMessageContaining("$.expected[0].statistics[1] must be an array of 3 (shape [3]), got an array of 2");
        Map<String, Object> plain = tree(SGD, "");
        set(expected(plain), "statistics", "[]");
        assertThatThrownBy(() -> parse(plain))
                .hasMessageContaining("$.expected[0].statistics is present, but mlp 2-2 relu has no running statistics");
        Map<String, Object> plainInitial = tree(SGD, "");
        set(plainInitial, "initialStatistics", "[]");
        assertThatThrownBy(() -> parse(plainInitial)).hasMessageContaining("$.initialStatistics is present");
        Map<String, Object> flag = batchNormCase();
        object(flag.get("model")).put("batchNorm", "yes");
        assertThatThrownBy(() -> parse(flag)).hasMessageContaining("$.model.batchNorm must be true or false");
        Map<String, Object> bnParams = batchNormCase();
        set(bnParams, "initialParams", "[" + filled(0.1, 3, 2) + ", " + filled(0, 3) + ", " + filled(0.2, 2, 3) + ", "
                + filled(0, 2) + "]");
        assertThatThrownBy(() -> parse(bnParams)).hasMessageContaining(
                "$.initialParams has 4 tensors, but the model has 5 (W0, gamma0, beta0, W1, b1)");
    }

    /** A cnn on 4×4 images, one channel in each convolution, 2 classes. */
    private static Map<String, Object> cnnCase() {
        Map<String, Object> t = tree(SGD, "");
        set(t, "model", "{\"type\": \"cnn\", \"size\": 4, \"channels\": [1, 1], \"classes\": 2}");
        String params = "[" + filled(0.1, 1, 1, 5, 5) + ", [0.0], " + filled(0.2, 1, 1, 5, 5) + ", [0.0], "
                + filled(0.3, 2, 1) + ", [0.0, 0.0]]";
        set(t, "initialParams", params);
        set(expected(t), "params", params);
        String row = IntStream.range(0, 16).mapToObj(Integer::toString).collect(Collectors.joining(", ", "[", "]"));
        train(t).put("x", Json.parse("[" + row + "]"));
        return t;
    }

    @Test
    void cnnRowsAreImagesInRowMajorOrder() throws Exception {
        ConformanceCase c = parse(cnnCase());
        assertThat(c.model()).isEqualTo(new ModelSpec.Cnn(4, 1, 1, 2));
        HostTensor x = c.steps().get(0).train().features();
        assertThat(x.shape()).containsExactly(1, 1, 4, 4);
        assertThat(x.values()[6]).as("row 1, column 2").isEqualTo(6.0);
        assertThat(c.initialParams().get(0).shape()).containsExactly(1, 1, 5, 5);
    }

    @Test
    void cnnErrorsNameThePath() throws Exception {
        Map<String, Object> size = cnnCase();
        object(size.get("model")).put("size", 6);
        assertThatThrownBy(() -> parse(size)).hasMessageContaining("$.model: cnn size must be a multiple of 4");
        Map<String, Object> activation = cnnCase();
        object(activation.get("model")).put("activation", "relu");
        assertThatThrownBy(() -> parse(activation))
                .hasMessageContaining("$.model.activation is not a known field here (known: channels, classes, loss, "
                        + "size, type)");
        Map<String, Object> channels = cnnCase();
        set(object(channels.get("model")), "channels", "[1, 1, 1]");
        assertThatThrownBy(() -> parse(channels)).hasMessageContaining("$.model.channels must be an array of 2");
        Map<String, Object> fraction = cnnCase();
        object(fraction.get("model")).put("classes", 2.5);
        assertThatThrownBy(() -> parse(fraction)).hasMessageContaining("$.model.classes must be a whole number, got 2.5");
        Map<String, Object> row = cnnCase();
        train(row).put("x", Json.parse("[" + filled(0, 15) + "]"));
        assertThatThrownBy(() -> parse(row))
                .hasMessageContaining("$.steps[0].train.x[0] must be an array of 16 (shape [1, 16]), got an array of 15");
        Map<String, Object> conv = cnnCase();
        set(conv, "initialParams", "[" + filled(0.1, 1, 1, 5, 4) + ", [0.0], " + filled(0.2, 1, 1, 5, 5)
                + ", [0.0], " + filled(0.3, 2, 1) + ", [0.0, 0.0]]");
        assertThatThrownBy(() -> parse(conv)).hasMessageContaining("$.initialParams[0][0][0][0] must be an array of 5");
        Map<String, Object> type = cnnCase();
        object(type.get("model")).put("type", "rnn");
        assertThatThrownBy(() -> parse(type)).hasMessageContaining("$.model.type must be \"mlp\", \"cnn\" or \"resnet\", got \"rnn\"");
    }

    @Test
    void theResidualCnnIsReadAndItsFieldsChecked() throws Exception {
        ConformanceCase golden = GoldenCases.load("resnet-agnostic-sam-exact-relu");
        assertThat(golden.model()).isEqualTo(new io.github.agnosticsam.model.ModelSpec.ResNet(8, 4, new int[] {16}, 2, 3));
        assertThat(golden.initialParams()).extracting(io.github.agnosticsam.model.HostTensor::shape)
                .containsExactlyElementsOf(golden.model().parameterShapes());
        Map<String, Object> widths = cnnCase();
        set(widths, "model", "{\"type\": \"resnet\", \"size\": 4, \"stem\": 2, \"widths\": [4, 0], \"blocks\": 1, "
                + "\"classes\": 2}");
        assertThatThrownBy(() -> parse(widths))
                .hasMessageContaining("$.model: resnet stage widths must be one or more numbers >= 1, got [4, 0]");
        Map<String, Object> missing = cnnCase();
        set(missing, "model", "{\"type\": \"resnet\", \"size\": 4, \"widths\": [4], \"blocks\": 1, \"classes\": 2}");
        assertThatThrownBy(() -> parse(missing)).hasMessageContaining("$.model.stem");
    }

    @Test
    void evaluationIsReadAndChecked() throws Exception {
        Map<String, Object> t = tree(SGD, "");
        set(t, "evaluation", "{\"x\": [[1.0, 0.0], [0.0, 1.0]], \"y\": [0, 1], \"loss\": 0.7, \"correct\": 2}");
        ConformanceCase.FinalEvaluation e = parse(t).evaluation().orElseThrow();
        assertThat(e.loss()).isEqualTo(0.7);
        assertThat(e.correct()).isEqualTo(2);
        assertThat(e.batch().labels()).containsExactly(0, 1);
        assertThat(parse(tree(SGD, "")).evaluation()).isEmpty();

        object(t.get("evaluation")).put("correct", 3);
        assertThatThrownBy(() -> parse(t)).hasMessageContaining("$.evaluation.correct must be in [0, 2] (the batch size), "
                + "got 3");
        object(t.get("evaluation")).put("correct", 1.5);
        assertThatThrownBy(() -> parse(t)).hasMessageContaining("$.evaluation.correct must be a whole number, got 1.5");
        object(t.get("evaluation")).remove("loss");
        assertThatThrownBy(() -> parse(t)).hasMessageContaining("$.evaluation.loss is required");
        object(t.get("evaluation")).put("accuracy", 1);
        assertThatThrownBy(() -> parse(t)).hasMessageContaining("$.evaluation.accuracy is not a known field");
        set(t, "evaluation", "{\"x\": [[1.0, 0.0]], \"y\": [5], \"loss\": 0.7, \"correct\": 0}");
        assertThatThrownBy(() -> parse(t)).hasMessageContaining("$.evaluation.y[0] must be a class in [0, 2), got 5");
    }

    // Reader hardening.

    @Test
    void duplicateKeysAreErrors() {
        assertThatThrownBy(() -> CaseReader.parse(minimal(SGD.replace("\"lr\": 0.1", "\"lr\": 0.1, \"lr\": 0.2"), ""),
                "dup.json"))
                .isInstanceOf(CaseFormatException.class)
                .hasMessage("dup.json: not valid JSON at $.optimizer.base.lr (line 4, column 67): duplicate key \"lr\"");
        assertThatThrownBy(() -> CaseReader.parse(minimal(SGD, "").replace("{\"name\": \"tiny\",",
                "{\"name\": \"tiny\", \"name\": \"other\","), "dup.json"))
                .hasMessageContaining("at $.name (line 1, column 18): duplicate key \"name\"");
    }

    @Test
    void contentAfterTheJsonValueIsAnError() throws Exception {
        String good = minimal(SGD, "");
        assertThat(CaseReader.parse(good + "\n  \n", "f").name()).as("trailing white space is fine").isEqualTo("tiny");
        for (String extra : List.of("{}", "x", "]", "{\"name\": \"second\"}", "0")) {
            assertThatThrownBy(() -> CaseReader.parse(good + extra, "two.json")).as(extra)
                    .isInstanceOf(CaseFormatException.class)
                    .hasMessage("two.json: not valid JSON at $ (line 7, column 1): content after the JSON value, which "
                            + "ends at line 6, column 79; expected one JSON value");
        }
        assertThatThrownBy(() -> CaseReader.parse("", "empty.json")).hasMessageContaining("empty.json: empty");
        assertThatThrownBy(() -> CaseReader.parse(" \n", "blank.json")).hasMessageContaining("blank.json: empty");
    }

    @Test
    void numbersThatAreNotFiniteAsDoublesAreErrors() {
        assertThatThrownBy(() -> CaseReader.parse(minimal(SGD, "").replaceFirst("0\\.3, 0\\.4", "1e400, 0.4"), "big.json"))
                .isInstanceOf(CaseFormatException.class)
                .hasMessageContaining("big.json: $.initialParams[0][1][0] is not finite as a double (it reads as "
                        + "Infinity)");
        assertThatThrownBy(() -> CaseReader.parse(minimal(SGD, "").replace("[1.0, 2.0]", "[1.0, -2e308000]"), "f"))
                .hasMessageContaining("$.steps[0].train.x[0][1] is not finite as a double (it reads as -Infinity)");
        assertThatThrownBy(() -> CaseReader.parse(minimal(SGD.replace("0.1", "1" + "0".repeat(400)), ""), "f"))
                .hasMessageContaining("$.optimizer.base.lr is not finite as a double");
        assertThatThrownBy(() -> CaseReader.parse(minimal(SGD, "").replace("\"loss\": 0.5", "\"loss\": 1e309"), "f"))
                .hasMessageContaining("$.expected[0].loss is not finite as a double");
        assertThatThrownBy(() -> CaseReader.parse(minimal(SGD, "").replace("\"y\": [1]", "\"y\": [4294967297]"), "f"))
                .as("a label that wraps around as an int").hasMessageContaining("$.steps[0].train.y[0] must be a class");
        assertThat(catchMessage(minimal(SGD, "").replaceFirst("0\\.3, 0\\.4", "1e-400, 0.4"))).as("underflow to 0 is "
                + "finite").isNull();
    }

    private static String catchMessage(String json) {
        try {
            CaseReader.parse(json, "f");
            return null;
        } catch (CaseFormatException e) {
            return e.getMessage();
        }
    }
}
