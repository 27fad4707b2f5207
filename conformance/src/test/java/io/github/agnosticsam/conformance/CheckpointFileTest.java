package io.github.agnosticsam.conformance;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.agnosticsam.Engines;
import io.github.agnosticsam.algorithm.Configurations;
import io.github.agnosticsam.algorithm.OptimizerProgram;
import io.github.agnosticsam.io.AtomicFiles;
import io.github.agnosticsam.io.Json;
import io.github.agnosticsam.model.Activation;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.Adam;
import io.github.agnosticsam.optim.AgnosticSam;
import io.github.agnosticsam.optim.Optimizer;
import io.github.agnosticsam.optim.Sam;
import io.github.agnosticsam.optim.Schedule;
import io.github.agnosticsam.optim.Sgd;
import io.github.agnosticsam.spi.CompiledStep;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.spi.StateSlot;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.spi.UnsupportedFeatureException;
import io.github.agnosticsam.training.BadValuePolicy;
import io.github.agnosticsam.training.Checkpoint;
import io.github.agnosticsam.training.CheckpointException;
import io.github.agnosticsam.training.StepLedger;
import io.github.agnosticsam.training.StepResult;
import io.github.agnosticsam.training.Training;
import java.io.File;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The checkpoint file (docs/checkpoints.md) on the reference engine: what a round trip keeps, the
 * layout a reader of its own (the stdlib Python script of the docs) sees, every way a damaged
 * file is refused, restores that do not fit, and the atomic write. Damaged files with a valid
 * checksum are built here from the layout the docs describe, not with Checkpoint's own code.
 */
class CheckpointFileTest {
    /** Hidden BatchNorm layer: parameters, running statistics and (with momentum) state. */
    private static final ModelSpec BN = new ModelSpec.Mlp(new int[] {4, 5, 3}, Activation.TANH, 0.0, true);
    private static final ModelSpec PLAIN = new ModelSpec.Mlp(new int[] {4, 3}, Activation.RELU, 0.0);
    private static final Sgd SGD = Sgd.builder().lr(0.1).momentum(0.9).build();
    private static final Optimizer AGNOSTIC = AgnosticSam.builder().base(SGD).rho1(0.2).rho2(0.1).build();

    private static Engine engine;
    /** A checkpoint of AGNOSTIC on BN after 5 steps (one skipped), as written. */
    private static byte[] valid;

    @TempDir
    Path dir;

    @BeforeAll
    static void writeOne(@TempDir Path shared) throws IOException {
        engine = Engines.load("reference", EngineOptions.DEFAULT);
        try (Network net = engine.build(BN, BN.initialParameters(1));
                Training t = Training.start(net, AGNOSTIC, BadValuePolicy.SKIP)) {
            run(t, 0, 5);
            Path file = shared.resolve("valid.safetensors");
            t.checkpoint().write(file);
            valid = Files.readAllBytes(file);
        }
    }

    @AfterAll
    static void closeEngine() {
        engine.close();
    }

    // Round trip.

    @Test
    void aRoundTripKeepsEveryTensorCounterAndEntryInFloat64() throws IOException {
        Map<String, String> extra = new LinkedHashMap<>();
        extra.put("data.order", "shuffle seed 7, epoch 2, batch 5");
        extra.put("note", "ünïcode \"quoted\"\nsecond line");
        try (Network net = engine.build(BN, BN.initialParameters(1));
                Training t = Training.start(net, AGNOSTIC, BadValuePolicy.SKIP)) {
            run(t, 0, 5);
            Checkpoint taken = t.checkpoint(extra);
            Path file = dir.resolve("run.safetensors");
            taken.write(file);
            Checkpoint read = Checkpoint.read(file);

            assertThat(read.parameters()).isEqualTo(net.parameters());
            assertThat(read.runningStatistics()).isEqualTo(net.runningStatistics()).isNotEqualTo(BN.initialStatistics());
            assertThat(read.optimizerState()).isEqualTo(t.optimizerState()).hasSize(BN.parameterNames().size());
            assertThat(read.steps()).isEqualTo(5);
            assertThat(read.skippedSteps()).isEqualTo(1);
            assertThat(read.appliedSteps()).isEqualTo(4);
            assertThat(read.extra()).containsExactlyEntriesOf(extra);
            assertThat(read.engine()).isEqualTo("reference");
            assertThat(read.libraryVersion()).isEqualTo(Checkpoint.LIBRARY_VERSION).matches("\\d+\\.\\d+\\.\\d+.*");
            assertThat(read.model()).isEqualTo(BN.toString());
            assertThat(read.dtype()).isEqualTo("F64");
            assertThat(tensorTypes(Files.readAllBytes(file))).containsOnly("F64");
            assertThat(dataOf(Files.readAllBytes(file))).hasSize(8 * values(read));

            // What was read writes back byte for byte: one layout, one order.
            Path again = dir.resolve("again.safetensors");
            read.write(again);
            assertThat(again).hasSameBinaryContentAs(file);
        }
    }

    @Test
    void aRestoredRunTakesTheSameNextStepsBitForBit() {
        try (Network net = engine.build(BN, BN.initialParameters(1));
                Training t = Training.start(net, AGNOSTIC, BadValuePolicy.SKIP);
                Network other = engine.build(BN, BN.initialParameters(99));
                Training resumed = Training.start(other, AGNOSTIC, BadValuePolicy.SKIP)) {
            run(t, 0, 5);
            Path file = dir.resolve("run.safetensors");
            t.checkpoint().write(file);
            resumed.restore(Checkpoint.read(file));
            assertThat(resumed.checkpoint().steps()).isEqualTo(5);
            assertThat(resumed.checkpoint().skippedSteps()).isEqualTo(1);
            List<StepResult> expected = run(t, 5, 8);
            List<StepResult> actual = run(resumed, 5, 8);
            for (int i = 0; i < expected.size(); i++) {
                assertThat(actual.get(i).loss()).isEqualTo(expected.get(i).loss());
            }
            assertThat(other.parameters()).isEqualTo(net.parameters());
            assertThat(other.runningStatistics()).isEqualTo(net.runningStatistics());
            assertThat(resumed.optimizerState()).isEqualTo(t.optimizerState());
        }
    }

    @Test
    void float32ValuesAreWrittenAsF32() throws IOException {
        Sgd plainSgd = Sgd.builder().lr(0.05).build(); // no momentum: no state
        try (Network net = engine.build(PLAIN, PLAIN.initialParameters(2)); Training t = Training.start(net, plainSgd)) {
            run(t, 0, 2);
            List<HostTensor> rounded = new ArrayList<>();
            for (HostTensor p : net.parameters()) {
                rounded.add(new HostTensor(p.shape(), Arrays.stream(p.values()).map(v -> (float) v).toArray()));
            }
            net.setParameters(rounded);
            Checkpoint taken = t.checkpoint();
            assertThat(taken.dtype()).isEqualTo("F32");
            Path file = dir.resolve("f32.safetensors");
            taken.write(file);
            Checkpoint read = Checkpoint.read(file);
            assertThat(read.dtype()).isEqualTo("F32");
            assertThat(read.parameters()).isEqualTo(rounded);
            assertThat(read.optimizerState()).isEmpty();
            assertThat(read.runningStatistics()).isEmpty();
            assertThat(read.steps()).isEqualTo(2);
            byte[] bytes = Files.readAllBytes(file);
            assertThat(tensorTypes(bytes)).containsOnly("F32");
            assertThat(metadata(header(bytes))).containsEntry("dtype", "F32");
            assertThat(dataOf(bytes)).hasSize(4 * values(read));
        }
    }

    @Test
    void theFileIsSafetensorsLaidOutAsDocumented() {
        Map<String, Object> header = header(valid);
        List<String> expectedNames = new ArrayList<>(List.of("__metadata__"));
        BN.parameterNames().forEach(n -> expectedNames.add("params." + n));
        BN.statisticNames().forEach(n -> expectedNames.add("statistics." + n));
        for (int i = 0; i < BN.parameterNames().size(); i++) {
            expectedNames.add("state.momentum." + i);
        }
        assertThat(header.keySet()).containsExactlyElementsOf(expectedNames);
        Map<String, String> meta = metadata(header);
        assertThat(meta.keySet()).containsExactly("format", "library", "engine", "model", "optimizer", "steps",
                "skippedSteps", "dtype", "params", "statistics", "state", "crc32c");
        assertThat(meta).containsEntry("format", "agnostic-sam checkpoint 1").containsEntry("engine", "reference")
                .containsEntry("model", BN.toString()).containsEntry("steps", "5").containsEntry("skippedSteps", "1")
                .containsEntry("params", Json.write(BN.parameterNames()))
                .containsEntry("statistics", Json.write(BN.statisticNames()))
                .containsEntry("optimizer", Json.write(Configurations.of(AGNOSTIC)));
        // The data starts 8-aligned and the tensors tile it in header order.
        assertThat(headerLength(valid) % 8).isZero();
        long end = 0;
        for (String name : expectedNames.subList(1, expectedNames.size())) {
            List<?> offsets = (List<?>) ((Map<?, ?>) header.get(name)).get("data_offsets");
            assertThat(((BigDecimal) offsets.get(0)).longValueExact()).as(name).isEqualTo(end);
            end = ((BigDecimal) offsets.get(1)).longValueExact();
        }
        assertThat(end).isEqualTo(dataOf(valid).length);
        // The checksum is the one the docs define: rebuilding the file from them gives it back.
        assertThat(seal(header, dataOf(valid))).isEqualTo(valid);
    }

    @Test
    void adamStateIsNamedAsTorchNamesIt() throws IOException {
        Optimizer adam = Sam.builder().base(Adam.builder().lr(0.01).build()).rho(0.1).build();
        try (Network net = engine.build(PLAIN, PLAIN.initialParameters(3)); Training t = Training.start(net, adam)) {
            run(t, 0, 1);
            Path file = dir.resolve("adam.safetensors");
            t.checkpoint().write(file);
            Map<String, Object> header = header(Files.readAllBytes(file));
            assertThat(header.keySet()).containsExactly("__metadata__", "params.W0", "params.b0", "state.exp_avg.0",
                    "state.exp_avg.1", "state.exp_avg_sq.0", "state.exp_avg_sq.1");
            assertThat(metadata(header)).containsEntry("state",
                    "[\"exp_avg.0\",\"exp_avg.1\",\"exp_avg_sq.0\",\"exp_avg_sq.1\"]");
        }
    }

    // Damaged files.

    static Stream<Arguments> damagedFiles() {
        int h = (int) headerLength(valid);
        int size = valid.length;
        return Stream.of(
                damage("empty", b -> new byte[0], "truncated: 0 bytes"),
                damage("truncated to 7 bytes", b -> Arrays.copyOf(b, 7), "truncated: 7 bytes"),
                damage("truncated to the header length", b -> Arrays.copyOf(b, 8), "truncated"),
                damage("truncated in the header", b -> Arrays.copyOf(b, 8 + h / 2), "truncated"),
                damage("truncated after the header", b -> Arrays.copyOf(b, 8 + h), "truncated"),
                damage("truncated in the data", b -> Arrays.copyOf(b, (8 + h + size) / 2), "truncated"),
                damage("one byte short", b -> Arrays.copyOf(b, size - 1), "truncated"),
                damage("a trailing byte", b -> Arrays.copyOf(b, size + 1), "trailing bytes"),
                damage("header length 2^63", b -> withLength(b, Long.MIN_VALUE), "header length is 9223372036854775808"),
                damage("header length -1", b -> withLength(b, -1), "header length is 18446744073709551615"),
                damage("header length 0", b -> withLength(b, 0), "header length is 0"),
                damage("header length past the end", b -> withLength(b, size - 7), "header length is " + (size - 7)),
                damage("header length cutting the JSON", b -> withLength(b, h - 8), "not a valid checkpoint: at $"),
                damage("a flipped bit in the data", b -> flip(b, 8 + h + 3, 4), "corrupt: the CRC-32C"),
                damage("a flipped bit in the step count", b -> flip(b, indexOf(b, "\"steps\":\"5\"") + 9, 0),
                        "corrupt: the CRC-32C"),
                damage("a byte of the header not UTF-8", b -> set(b, indexOf(b, "reference"), 0xff), "not UTF-8"),
                damage("a header that is not an object", b -> file("[]", new byte[0]), "expected a JSON object"),
                damage("a NaN with a matching checksum", b -> edited(b, (header, data) -> data.putDouble(8, Double.NaN)),
                        "params.W0 element 1 is NaN"),
                damage("an infinity in the state", b -> edited(b, (header, data) -> data.putDouble(data.limit() - 8,
                        Double.POSITIVE_INFINITY)), "state.momentum.4 element 2 is Infinity"),
                damage("a listed tensor missing", b -> edited(b, (header, data) -> header.remove("params.b1")),
                        "the header has no params.b1"),
                damage("an unlisted tensor", b -> edited(b, (header, data) -> header.put("params.ghost",
                        entry("F64", List.of(0), 0, 0))), "tensors [params.ghost] are not listed in the metadata"),
                damage("overlapping offsets", b -> edited(b, (header, data) -> shift(header, "params.gamma0", -8)),
                        "overlap at byte 152"),
                damage("a gap between tensors", b -> edited(b, (header, data) -> shift(header, "params.gamma0", 8)),
                        "gap or overlap at byte 160"),
                damage("a shape that does not fit its offsets", b -> edited(b, (header, data) ->
                        tensor(header, "params.b1").put("shape", List.of(4))), "do not hold 4 F64 values"),
                damage("a tensor of another dtype", b -> edited(b, (header, data) ->
                        tensor(header, "params.b1").put("dtype", "F16")), "params.b1.dtype is \"F16\""),
                damage("a metadata entry that is not a string", b -> edited(b, (header, data) ->
                        meta(header).put("steps", BigDecimal.valueOf(5))), "__metadata__.steps must be a string"),
                damage("a metadata entry missing", b -> edited(b, (header, data) -> meta(header).remove("optimizer")),
                        "__metadata__ has no optimizer"),
                damage("more skipped steps than steps", b -> edited(b, (header, data) ->
                        meta(header).put("skippedSteps", "6")), "skippedSteps 6 exceeds steps 5"),
                damage("a negative step count", b -> edited(b, (header, data) -> meta(header).put("steps", "-1")),
                        "__metadata__.steps is '-1'"),
                damage("a tensor listed twice", b -> edited(b, (header, data) -> meta(header).put("statistics",
                        "[\"mean0\",\"mean0\"]")), "must list distinct tensor names"),
                damage("a foreign safetensors file", b -> file("{\"__metadata__\":{\"format\":\"pt\"},\"weight\":"
                        + "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[8]),
                        "__metadata__.format is \"pt\""),
                damage("safetensors without metadata", b -> file("{\"weight\":{\"dtype\":\"F32\",\"shape\":[2],"
                        + "\"data_offsets\":[0,8]}}", new byte[8]), "the header has no __metadata__"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("damagedFiles")
    void aDamagedFileIsRefusedNamingTheFileAndTheProblem(String what, UnaryOperator<byte[]> damage, String problem)
            throws IOException {
        Path file = dir.resolve("damaged.safetensors");
        Files.write(file, damage.apply(valid.clone()));
        assertRefused(file, problem, what);
    }

    @Test
    void aFlippedBitAnywhereIsRefused() throws IOException {
        Path file = dir.resolve("flipped.safetensors");
        int dataStart = 8 + (int) headerLength(valid);
        for (int i = 8; i < valid.length; i += i < dataStart ? 1 : 7) { // every header byte, a byte of each value
            Files.write(file, flip(valid.clone(), i, i % 8));
            assertRefused(file, "", "bit " + i % 8 + " of byte " + i + " flipped");
        }
    }

    @Test
    void aFolderOrAMissingFileIsRefused() throws IOException {
        assertRefused(dir, "is a folder, not a checkpoint file", "a folder");
        assertRefused(dir.resolve("missing.safetensors"), "no such file or folder", "a missing file");
    }

    @Test
    void aShapeThatDoesNotFitTheModelIsRefusedOnRestoreAndNothingChanges() throws IOException {
        Path file = dir.resolve("transposed.safetensors");
        Files.write(file, edited(valid, (header, data) -> {
            Map<String, Object> w0 = tensor(header, "params.W0");
            List<Object> shape = new ArrayList<>((List<?>) w0.get("shape"));
            java.util.Collections.reverse(shape);
            w0.put("shape", shape);
        }));
        Checkpoint transposed = Checkpoint.read(file); // a valid file: its model decides
        try (Network net = engine.build(BN, BN.initialParameters(1));
                Training t = Training.start(net, AGNOSTIC, BadValuePolicy.SKIP)) {
            run(t, 0, 1);
            int[] w0 = BN.parameterShapes().get(0);
            assertRestoreRefused(t, net, transposed, "the checkpoint's params.W0 has shape [" + w0[1] + ", " + w0[0]
                    + "], here it has " + Arrays.toString(w0));
        }
    }

    // Restores that do not fit.

    static Stream<Arguments> otherConfigurations() {
        Sgd slower = Sgd.builder().lr(0.2).momentum(0.9).build();
        Sgd cosine1000 = Sgd.builder().lr(Schedule.cosine(0.1, 1000)).momentum(0.9).build();
        Sgd cosine2000 = Sgd.builder().lr(Schedule.cosine(0.1, 2000)).momentum(0.9).build();
        return Stream.of(
                Arguments.of(Sam.builder().base(SGD).rho(0.2).build(), AGNOSTIC,
                        "kind is \"sam\" in the checkpoint, \"agnostic-sam\" here"),
                Arguments.of(AGNOSTIC, AgnosticSam.builder().base(slower).rho1(0.2).rho2(0.1).build(),
                        "base.lr.value is 0.1 in the checkpoint, 0.2 here"),
                Arguments.of(Sam.builder().base(cosine1000).rho(0.2).build(),
                        Sam.builder().base(cosine2000).rho(0.2).build(),
                        "base.lr.totalSteps is 1000 in the checkpoint, 2000 here"),
                Arguments.of(Sam.builder().base(SGD).rho(0.2).build(), Sam.builder().base(cosine1000).rho(0.2).build(),
                        "base.lr.kind is \"constant\" in the checkpoint, \"cosine\" here"),
                Arguments.of(AGNOSTIC, AgnosticSam.builder().base(SGD).rho1(0.2).rho2(Schedule.perStep(0.1, 0.1))
                        .build(), "rho2.kind is \"constant\" in the checkpoint, \"perStep\" here"),
                Arguments.of(Adam.builder().lr(0.01).build(), Adam.adamW().lr(0.01).build(),
                        "kind is \"adam\" in the checkpoint, \"adamw\" here"));
    }

    @ParameterizedTest(name = "{2}")
    @MethodSource("otherConfigurations")
    void anotherOptimizerConfigurationIsRefusedNamingThePath(Optimizer saved, Optimizer here, String difference) {
        Checkpoint checkpoint = writtenAndRead(BN, saved, 2);
        try (Network net = engine.build(BN, BN.initialParameters(5));
                Training t = Training.start(net, here, BadValuePolicy.SKIP)) {
            run(t, 0, 1);
            assertRestoreRefused(t, net, checkpoint,
                    "the checkpoint was written with another optimizer configuration: " + difference);
        }
    }

    @Test
    void anotherModelIsRefusedNamingBoth() {
        Checkpoint checkpoint = writtenAndRead(BN, SGD, 1);
        try (Network net = engine.build(PLAIN, PLAIN.initialParameters(5)); Training t = Training.start(net, SGD)) {
            run(t, 0, 1);
            assertRestoreRefused(t, net, checkpoint, "the checkpoint is of the model '" + BN + "', this network is '"
                    + PLAIN + "'");
        }
    }

    @Test
    void aLambdaScheduleCannotBeCheckpointed() {
        Optimizer lambda = Sam.builder().base(Sgd.builder().lr(step -> 0.1).build()).rho(0.1).build();
        try (Network net = engine.build(PLAIN, PLAIN.initialParameters(5)); Training t = Training.start(net, lambda)) {
            assertThatThrownBy(t::checkpoint).isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("the lr schedule (").hasMessageContaining("a lambda does not");
        }
    }

    @Test
    void reservedOrNullExtraEntriesAreRefused() {
        try (Network net = engine.build(PLAIN, PLAIN.initialParameters(5)); Training t = Training.start(net, SGD)) {
            assertThatThrownBy(() -> t.checkpoint(Map.of("steps", "9"))).isExactlyInstanceOf(
                    IllegalArgumentException.class).hasMessageStartingWith("extra checkpoint entry 'steps' is reserved");
            Map<String, String> nullValue = new HashMap<>();
            nullValue.put("note", null);
            assertThatThrownBy(() -> t.checkpoint(nullValue)).isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'note'");
            Map<String, String> nullKey = new HashMap<>();
            nullKey.put(null, "x");
            assertThatThrownBy(() -> t.checkpoint(nullKey)).isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'null'");
            assertThatThrownBy(() -> t.checkpoint(null)).isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("must not be null");
        }
    }

    @Test
    void anEngineThatFailsHalfWayThroughARestoreIsPutBack() {
        Checkpoint checkpoint = writtenAndRead(BN, SGD, 3);
        StepProgram program = OptimizerProgram.of(SGD);
        try (Network net = engine.build(BN, BN.initialParameters(8)); CompiledStep step = net.compile(program)) {
            Network failing = overriding(net, "setParameters", () -> { // the last of the three setters
                throw new IllegalStateException("device lost");
            });
            StepLedger ledger = new StepLedger(program, BN.parameterNames(), BN.parameterShapes(), BadValuePolicy.THROW);
            List<HostTensor> state = step.state();
            assertThatThrownBy(() -> checkpoint.restore(failing, step, ledger))
                    .isExactlyInstanceOf(IllegalStateException.class).hasMessage("device lost");
            assertThat(step.state()).isEqualTo(state).isNotEqualTo(checkpoint.optimizerState());
            assertThat(net.runningStatistics()).isEqualTo(BN.initialStatistics());
            assertThat(net.parameters()).isEqualTo(BN.initialParameters(8));
            assertThat(ledger.steps()).isZero();
        }
    }

    @Test
    void aNonFiniteValueIsNotWritten() {
        StepProgram program = OptimizerProgram.of(SGD);
        try (Network net = engine.build(PLAIN, PLAIN.initialParameters(8)); CompiledStep step = net.compile(program)) {
            List<HostTensor> bad = PLAIN.initialParameters(8);
            bad.get(1).values()[2] = Double.NEGATIVE_INFINITY;
            Network broken = overriding(net, "parameters", () -> bad);
            StepLedger ledger = new StepLedger(program, PLAIN.parameterNames(), PLAIN.parameterShapes(),
                    BadValuePolicy.THROW);
            Path file = dir.resolve("run.safetensors");
            assertThatThrownBy(() -> Checkpoint.capture(broken, step, ledger, Map.of()).write(file))
                    .isExactlyInstanceOf(CheckpointException.class)
                    .hasMessage("cannot write the checkpoint " + file + ": params.b0 element 2 is -Infinity");
            assertThat(file).doesNotExist();
        }
    }

    @Test
    void anEngineThatCannotSetStateSaysSoAndNothingChanges() {
        Checkpoint checkpoint = writtenAndRead(BN, SGD, 3);
        try (Network net = engine.build(BN, BN.initialParameters(8))) {
            // A compiled step that cannot set its state says so: restore changes nothing.
            Network old = overriding(net, "compile", () -> {
                CompiledStep inner = net.compile(OptimizerProgram.of(SGD));
                return new CompiledStep() {
                    @Override
                    public io.github.agnosticsam.spi.StepSummary run(Batch train, Batch validation, double[] scalars) {
                        return inner.run(train, validation, scalars);
                    }

                    @Override
                    public List<HostTensor> state() {
                        return inner.state();
                    }

                    @Override
                    public void setState(List<HostTensor> values) {
                        throw new UnsupportedFeatureException("checkpoints unsupported: this engine's compiled step "
                                + "cannot set optimizer state");
                    }

                    @Override
                    public void close() {
                        inner.close();
                    }
                };
            });
            try (Training t = Training.start(old, SGD)) {
                assertThatThrownBy(() -> t.restore(checkpoint))
                        .isInstanceOf(UnsupportedFeatureException.class)
                        .hasMessageStartingWith("checkpoints unsupported: this engine's compiled step");
                assertThat(net.parameters()).isEqualTo(BN.initialParameters(8));
                assertThat(net.runningStatistics()).isEqualTo(BN.initialStatistics());
                assertThat(t.steps()).isZero();
            }
        }
    }

    @Test
    void runningStatisticsTheModelDoesNotNameAreRefusedAtCapture() {
        StepProgram program = OptimizerProgram.of(SGD);
        try (Network net = engine.build(PLAIN, PLAIN.initialParameters(8)); CompiledStep step = net.compile(program)) {
            // An engine whose graph has BatchNorm statistics its model description leaves out.
            Network unnamed = overriding(net, "runningStatistics", () -> List.of(HostTensor.zeros(2), HostTensor.zeros(2)));
            StepLedger ledger = new StepLedger(program, PLAIN.parameterNames(), PLAIN.parameterShapes(),
                    BadValuePolicy.THROW);
            assertThatThrownBy(() -> Checkpoint.capture(unnamed, step, ledger, Map.of()))
                    .isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessage("cannot checkpoint 2 statistics tensors under 0 names []: the model's description must "
                            + "name every one");
        }
    }

    /** The network with one method answered by {@code answer} instead. */
    private static Network overriding(Network net, String method, java.util.function.Supplier<Object> answer) {
        return (Network) Proxy.newProxyInstance(Network.class.getClassLoader(), new Class<?>[] {Network.class},
                (proxy, m, args) -> {
                    if (m.getName().equals(method)) {
                        return answer.get();
                    }
                    try {
                        return m.invoke(net, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    // Atomic writes.

    @Test
    void aWriteIntoAFileAsFolderFailsAndLeavesEverythingAsItWas() throws IOException {
        Path notAFolder = Files.writeString(dir.resolve("notes.txt"), "not a folder");
        Path target = notAFolder.resolve("run.safetensors");
        assertThatThrownBy(() -> Checkpoint.read(writtenFile()).write(target))
                .isExactlyInstanceOf(CheckpointException.class)
                .hasMessage("cannot write the checkpoint " + target + ": " + notAFolder + ": exists and is not a folder");
        assertThat(notAFolder).hasContent("not a folder");
        assertThat(listing(dir)).containsExactlyInAnyOrder("notes.txt", "written.safetensors");
    }

    @Test
    void aWriteOverAFolderFailsAndLeavesNoTemporaryFile() throws IOException {
        Path target = Files.createDirectory(dir.resolve("run.safetensors"));
        Files.writeString(target.resolve("inside"), "kept");
        Checkpoint checkpoint = Checkpoint.read(writtenFile());
        Throwable thrown = catchThrowable(() -> checkpoint.write(target));
        assertThat(thrown).isExactlyInstanceOf(CheckpointException.class)
                .hasMessageStartingWith("cannot write the checkpoint " + target + ": ");
        assertThat(thrown.getMessage()).doesNotContain("\n");
        assertThat(target.resolve("inside")).hasContent("kept");
        assertThat(listing(dir)).containsExactlyInAnyOrder("run.safetensors", "written.safetensors");
    }

    @Test
    void aReadOnlyFolderKeepsTheOldCheckpoint() throws IOException {
        Path folder = Files.createDirectory(dir.resolve("runs"));
        Path target = folder.resolve("run.safetensors");
        Checkpoint checkpoint = Checkpoint.read(writtenFile());
        Files.writeString(target, "the old checkpoint");
        Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            assumeFalse(Files.isWritable(folder), "the read-only folder is writable here (running as root?): "
                    + "a failed write cannot be set up this way");
            assertThatThrownBy(() -> checkpoint.write(target)).isExactlyInstanceOf(CheckpointException.class)
                    .hasMessageStartingWith("cannot write the checkpoint " + target + ": ")
                    .hasMessageContaining("permission denied");
        } finally {
            Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        assertThat(target).hasContent("the old checkpoint");
        assertThat(listing(folder)).containsExactly("run.safetensors");
    }

    @Test
    void aWriterThatFailsHalfWayLeavesTheOldFileAndNoTemporaryFile() throws IOException {
        Path target = Files.writeString(dir.resolve("run.safetensors"), "the old checkpoint");
        List<Throwable> failures = List.of(new IOException("disk full"), new IllegalStateException("crash"),
                new OutOfMemoryError("no room"));
        for (Throwable failure : failures) {
            Throwable thrown = catchThrowable(() -> AtomicFiles.write(target, out -> {
                out.write(new byte[4096]); // half a file
                sneakyThrow(failure);
            }));
            assertThat(thrown).isSameAs(failure);
            assertThat(target).hasContent("the old checkpoint");
            assertThat(listing(dir)).containsExactly("run.safetensors");
        }
        Path fresh = dir.resolve("fresh.safetensors");
        assertThatThrownBy(() -> AtomicFiles.write(fresh, out -> {
            out.write(1);
            throw new IOException("disk full");
        })).hasMessage("disk full");
        assertThat(listing(dir)).containsExactly("run.safetensors");
    }

    @Test
    void aCleanUpThatFailsDoesNotHideTheFirstFailure() throws IOException {
        Path target = dir.resolve("run.safetensors");
        IOException diskFull = new IOException("disk full");
        Throwable thrown = catchThrowable(() -> AtomicFiles.write(target, out -> {
            // The temporary file becomes a folder with a file in it: it cannot be deleted.
            Path temp;
            try (Stream<Path> files = Files.list(dir)) {
                temp = files.filter(f -> f.getFileName().toString().endsWith(".tmp")).findFirst().orElseThrow();
            }
            Files.delete(temp);
            Files.createFile(Files.createDirectory(temp).resolve("inside"));
            throw diskFull;
        }));
        assertThat(thrown).isSameAs(diskFull);
        assertThat(thrown.getSuppressed()).singleElement().isInstanceOf(java.nio.file.DirectoryNotEmptyException.class);
    }

    @Test
    void aCompletedWriteReplacesTheOldFileAndLeavesNothingElse() throws IOException {
        Path target = Files.writeString(dir.resolve("run.safetensors"), "the old checkpoint");
        Checkpoint.read(writtenFile()).write(target);
        assertThat(target).hasBinaryContent(valid);
        assertThat(listing(dir)).containsExactlyInAnyOrder("run.safetensors", "written.safetensors");
    }

    // Python.

    @Test
    void pythonReadsEveryTensorWithItsStandardLibrary() throws Exception {
        Path python = onPath("python3");
        assumeTrue(python != null, "python3 is not on PATH, so the stdlib reader docs/read_checkpoint.py is not run");
        Path script = Path.of("..", "docs", "read_checkpoint.py"); // from the module folder, as surefire runs
        assertThat(script).as("the reader docs/checkpoints.md shows").isRegularFile();
        try (Network net = engine.build(BN, BN.initialParameters(1));
                Training t = Training.start(net, AGNOSTIC, BadValuePolicy.SKIP);
                Network plain = engine.build(PLAIN, PLAIN.initialParameters(2));
                Training f32 = Training.start(plain, Sgd.builder().lr(0.5).build())) {
            run(t, 0, 5);
            Path file64 = dir.resolve("f64.safetensors");
            t.checkpoint(Map.of("note", "ünïcode\ttab")).write(file64);
            assertPythonReads(python, script, file64, byName(Checkpoint.read(file64), BN, t.program()));
            Path file32 = dir.resolve("f32.safetensors");
            List<HostTensor> rounded = new ArrayList<>();
            for (HostTensor p : PLAIN.initialParameters(2)) {
                rounded.add(new HostTensor(p.shape(), Arrays.stream(p.values()).map(v -> (float) v).toArray()));
            }
            rounded.get(1).values()[0] = -0.0; // the sign of a zero survives too
            plain.setParameters(rounded);
            f32.checkpoint().write(file32);
            assertThat(Checkpoint.read(file32).dtype()).isEqualTo("F32");
            assertPythonReads(python, script, file32, byName(Checkpoint.read(file32), PLAIN, f32.program()));
        }
    }

    private static void assertPythonReads(Path python, Path script, Path file, Map<String, HostTensor> expected)
            throws Exception {
        Process p = new ProcessBuilder(python.toString(), script.toString(), file.toString()).redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("python finished").isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        List<String> lines = out.lines().toList();
        assertThat(lines.get(0)).startsWith("__metadata__\t");
        assertThat(Json.parse(lines.get(0).substring("__metadata__\t".length())))
                .isEqualTo(metadata(header(Files.readAllBytes(file))));
        Map<String, HostTensor> seen = new LinkedHashMap<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] fields = line.split("\t", -1);
            assertThat(fields).as(line).hasSize(3);
            int[] shape = ((List<?>) Json.parse(fields[1])).stream().mapToInt(d -> ((BigDecimal) d).intValueExact())
                    .toArray();
            double[] values = fields[2].isEmpty() ? new double[0]
                    : Arrays.stream(fields[2].split(" ")).mapToDouble(Double::parseDouble).toArray();
            seen.put(fields[0], new HostTensor(shape, values));
        }
        assertThat(seen).containsExactlyEntriesOf(expected);
    }

    // Optimizer descriptions.

    @Nested
    class OptimizerDescriptions {
        @Test
        @SuppressWarnings("unchecked")
        void everyScheduleKindIsDescribed() {
            Sgd sgd = Sgd.builder().lr(Schedule.cosine(0.1, 1000).times(0.5)).momentum(0.9).nesterov(true).build();
            assertThat(Json.write(Configurations.of(sgd))).isEqualTo("{\"kind\":\"sgd\",\"lr\":{\"kind\":\"scaled\","
                    + "\"schedule\":{\"kind\":\"cosine\",\"base\":0.1,\"totalSteps\":1000},\"factor\":0.5},"
                    + "\"momentum\":0.9,\"weightDecay\":0.0,\"nesterov\":true}");
            Optimizer agnostic = AgnosticSam.builder().base(Adam.adamW().lr(0.001).build()).rho1(0.05)
                    .rho2(Schedule.perStep(0.01, 0.02)).variant(AgnosticSam.Variant.FAST).adaptive(true).eta(0.01)
                    .build();
            assertThat(Json.write(Configurations.of(agnostic))).isEqualTo("{\"kind\":\"agnostic-asam\","
                    + "\"variant\":\"FAST\",\"rho1\":{\"kind\":\"constant\",\"value\":0.05},\"rho2\":{\"kind\":"
                    + "\"perStep\",\"values\":[0.01,0.02]},\"eta\":0.01,\"base\":{\"kind\":\"adamw\",\"lr\":{\"kind\":"
                    + "\"constant\",\"value\":0.001},\"beta1\":0.9,\"beta2\":0.999,\"epsilon\":1.0E-8,"
                    + "\"weightDecay\":0.01}}");
            Optimizer sam = Sam.builder().base(Adam.builder().lr(0.01).build()).rho(0.1).build();
            assertThat(Configurations.of(sam)).containsEntry("kind", "sam").containsKey("eta");
            assertThat((Map<String, Object>) Configurations.of(sam).get("base")).containsEntry("kind", "adam");
        }

        @Test
        void equalConfigurationsCompareEqualBuiltOrRead() {
            Map<String, Object> a = Configurations.of(agnostic(Schedule.cosine(0.1, 1000)));
            Map<String, Object> b = Configurations.of(agnostic(Schedule.cosine(0.1, 1000)));
            assertThat(Configurations.firstDifference(a, "x", b, "y")).isNull();
            assertThat(Configurations.firstDifference(a, "x", Json.parse(Json.write(a)), "y")).isNull();
            assertThat(Configurations.firstDifference(Map.of("v", 1.0, "n", 1000L), "x",
                    Json.parse("{\"v\":1.0,\"n\":1000}"), "y")).isNull();
        }

        @Test
        void theFirstDifferenceIsNamedByItsPath() {
            assertThat(Configurations.firstDifference(Configurations.of(agnostic(Schedule.cosine(0.1, 1000))),
                    "in the checkpoint", Configurations.of(agnostic(Schedule.cosine(0.1, 2000))), "here"))
                    .isEqualTo("base.lr.totalSteps is 1000 in the checkpoint, 2000 here");
            assertThat(difference("{\"a\":{\"b\":1,\"c\":2}}", "{\"a\":{\"b\":1,\"c\":3}}")).isEqualTo("a.c is 2 x, 3 y");
            assertThat(difference("{\"a\":1}", "{\"a\":1,\"b\":true}")).isEqualTo("b is absent x, true y");
            assertThat(difference("{\"v\":[0.1,0.2]}", "{\"v\":[0.1,0.3]}")).isEqualTo("v[1] is 0.2 x, 0.3 y");
            assertThat(difference("{\"v\":[0.1]}", "{\"v\":[0.1,0.3]}")).isEqualTo("v[1] is absent x, 0.3 y");
            assertThat(difference("{\"a\":1}", "{\"a\":\"1\"}")).isEqualTo("a is 1 x, \"1\" y");
            assertThat(difference("{\"a\":{}}", "{}")).isEqualTo("a is {} x, absent y");
            assertThat(difference("1", "2")).isEqualTo("(the whole configuration) is 1 x, 2 y");
        }

        @Test
        void aLambdaIsNamedBySchedule() {
            Sgd lambdaLr = Sgd.builder().lr(step -> 0.1).build();
            assertThatThrownBy(() -> Configurations.of(lambdaLr)).isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("the lr schedule (");
            Schedule scaledLambda = ((Schedule) step -> 0.1).times(2);
            Optimizer sam = Sam.builder().base(SGD).rho(scaledLambda).build();
            assertThatThrownBy(() -> Configurations.of(sam)).isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("the rho schedule (");
        }

        private static Optimizer agnostic(Schedule lr) {
            return AgnosticSam.builder().base(Sgd.builder().lr(lr).momentum(0.9).build()).rho1(0.2)
                    .rho2(Schedule.perStep(0.1, 0.05)).build();
        }

        private static String difference(String x, String y) {
            return Configurations.firstDifference(Json.parse(x), "x", Json.parse(y), "y");
        }
    }

    // Helpers: training.

    /** Steps from..to-1 on seeded batches; step 3 has a NaN feature (skipped under SKIP). */
    private static List<StepResult> run(Training t, int from, int to) {
        ModelSpec model = t.network().model();
        List<StepResult> results = new ArrayList<>();
        for (int s = from; s < to; s++) {
            Batch train = SyntheticBatches.learnable(model, 6, new SplittableRandom(s));
            if (s == 3) {
                train.features().values()[0] = Double.NaN;
            }
            Batch validation = SyntheticBatches.learnable(model, 4, new SplittableRandom(100 + s));
            results.add(t.program().usesValidationBatch() ? t.step(train, validation) : t.step(train));
        }
        return results;
    }

    /** A checkpoint of {@code optimizer} on {@code model} after some steps, written and read back. */
    private Checkpoint writtenAndRead(ModelSpec model, Optimizer optimizer, int steps) {
        try (Network net = engine.build(model, model.initialParameters(4));
                Training t = Training.start(net, optimizer, BadValuePolicy.SKIP)) {
            run(t, 0, steps);
            Path file = dir.resolve("saved.safetensors");
            t.checkpoint().write(file);
            return Checkpoint.read(file);
        }
    }

    /** The valid checkpoint, as a file in the test's folder. */
    private Path writtenFile() throws IOException {
        return Files.write(dir.resolve("written.safetensors"), valid);
    }

    /** Restore refused with exactly this message; parameters, statistics, state and counters unchanged. */
    private static void assertRestoreRefused(Training t, Network net, Checkpoint checkpoint, String message) {
        Checkpoint before = t.checkpoint();
        assertThatThrownBy(() -> t.restore(checkpoint)).isExactlyInstanceOf(CheckpointException.class)
                .hasMessage(message);
        Checkpoint after = t.checkpoint();
        assertThat(after.parameters()).isEqualTo(before.parameters()).isEqualTo(net.parameters());
        assertThat(after.runningStatistics()).isEqualTo(before.runningStatistics());
        assertThat(after.optimizerState()).isEqualTo(before.optimizerState());
        assertThat(after.steps()).isEqualTo(before.steps());
        assertThat(after.skippedSteps()).isEqualTo(before.skippedSteps());
    }

    /** Tensors by their name in the file, from the checkpoint's lists and the model's and program's names. */
    private static Map<String, HostTensor> byName(Checkpoint c, ModelSpec model, StepProgram program) {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (int i = 0; i < model.parameterNames().size(); i++) {
            out.put("params." + model.parameterNames().get(i), c.parameters().get(i));
        }
        for (int i = 0; i < model.statisticNames().size(); i++) {
            out.put("statistics." + model.statisticNames().get(i), c.runningStatistics().get(i));
        }
        List<String> slots = StateSlot.names(program.state(model.parameterShapes()));
        for (int i = 0; i < slots.size(); i++) {
            out.put("state." + slots.get(i), c.optimizerState().get(i));
        }
        return out;
    }

    private static int values(Checkpoint c) {
        return Stream.of(c.parameters(), c.runningStatistics(), c.optimizerState()).flatMap(List::stream)
                .mapToInt(HostTensor::size).sum();
    }

    // Helpers: files, read and built from the layout of docs/checkpoints.md.

    /** Reading {@code file} is a one-line CheckpointException naming it and the problem. */
    private static void assertRefused(Path file, String problem, String what) {
        Throwable thrown = catchThrowable(() -> Checkpoint.read(file));
        assertThat(thrown).as(what).isExactlyInstanceOf(CheckpointException.class);
        assertThat(thrown.getMessage()).as(what).contains(file.toString()).contains(problem).doesNotContain("\n");
    }

    private static long headerLength(byte[] file) {
        return ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    /** The header, parsed afresh (free to change). */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> header(byte[] file) {
        return (Map<String, Object>) Json.parse(new String(file, 8, (int) headerLength(file), UTF_8));
    }

    private static byte[] dataOf(byte[] file) {
        return Arrays.copyOfRange(file, 8 + (int) headerLength(file), file.length);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> meta(Map<String, Object> header) {
        return (Map<String, Object>) header.get("__metadata__");
    }

    private static Map<String, String> metadata(Map<String, Object> header) {
        Map<String, String> out = new LinkedHashMap<>();
        meta(header).forEach((k, v) -> out.put(k, (String) v));
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> tensor(Map<String, Object> header, String name) {
        return (Map<String, Object>) header.get(name);
    }

    private static List<String> tensorTypes(byte[] file) {
        Map<String, Object> header = header(file);
        header.remove("__metadata__");
        return header.keySet().stream().map(n -> (String) tensor(header, n).get("dtype")).toList();
    }

    private static Map<String, Object> entry(String dtype, List<Integer> shape, long begin, long end) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("dtype", dtype);
        e.put("shape", shape);
        e.put("data_offsets", List.of(begin, end));
        return e;
    }

    private static void shift(Map<String, Object> header, String name, long by) {
        List<?> offsets = (List<?>) tensor(header, name).get("data_offsets");
        tensor(header, name).put("data_offsets", offsets.stream().map(o -> ((BigDecimal) o).longValueExact() + by)
                .toList());
    }

    /** A header edit, given the header and the data (little-endian, writable). */
    private interface Edit {
        void apply(Map<String, Object> header, ByteBuffer data);
    }

    /** The file with its header or data edited, sealed with a matching checksum. */
    private static byte[] edited(byte[] file, Edit edit) {
        Map<String, Object> header = header(file);
        ByteBuffer data = ByteBuffer.wrap(dataOf(file)).order(ByteOrder.LITTLE_ENDIAN);
        edit.apply(header, data);
        return seal(header, data.array());
    }

    /**
     * A checkpoint file as the docs define it: crc32c is the CRC-32C of the header as compact JSON
     * without that entry, then of the data.
     */
    private static byte[] seal(Map<String, Object> header, byte[] data) {
        meta(header).remove("crc32c");
        CRC32C crc = new CRC32C();
        crc.update(Json.write(header).getBytes(UTF_8));
        crc.update(data);
        meta(header).put("crc32c", Long.toString(crc.getValue()));
        return file(Json.write(header), data);
    }

    /** Header length, the JSON padded with spaces to a multiple of 8, the data. */
    private static byte[] file(String json, byte[] data) {
        byte[] text = json.getBytes(UTF_8);
        int padded = (text.length + 7) / 8 * 8;
        ByteBuffer out = ByteBuffer.allocate(8 + padded + data.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(text);
        for (int i = text.length; i < padded; i++) {
            out.put((byte) ' ');
        }
        return out.put(data).array();
    }

    private static Arguments damage(String what, UnaryOperator<byte[]> damage, String problem) {
        return Arguments.of(what, damage, problem);
    }

    private static byte[] withLength(byte[] file, long length) {
        ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).putLong(0, length);
        return file;
    }

    private static byte[] flip(byte[] file, int index, int bit) {
        file[index] ^= (byte) (1 << bit);
        return file;
    }

    private static byte[] set(byte[] file, int index, int value) {
        file[index] = (byte) value;
        return file;
    }

    private static int indexOf(byte[] file, String text) {
        int at = new String(file, java.nio.charset.StandardCharsets.ISO_8859_1).indexOf(text);
        assertThat(at).as("where %s is", text).isNotNegative();
        return at;
    }

    private static List<String> listing(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(f -> f.getFileName().toString()).toList();
        }
    }

    private static Path onPath(String program) {
        for (String folder : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = Path.of(folder, program);
            if (!folder.isEmpty() && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> void sneakyThrow(Throwable t) throws E {
        throw (E) t;
    }
}
