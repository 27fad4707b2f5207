package io.github.agnosticsam.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.agnosticsam.Engines;
import io.github.agnosticsam.conformance.SyntheticBatches;
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
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.training.BadValuePolicy;
import io.github.agnosticsam.training.Checkpoint;
import io.github.agnosticsam.training.Training;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Resume is bit-exact across JVMs: N steps, a checkpoint file, N more steps in this JVM; another
 * JVM restores the file and runs the same N steps: its final checkpoint holds the same bytes of
 * parameters, running statistics and optimizer state, and the same counters. For SGD, Adam, SAM
 * and Agnostic-SAM EXACT and FAST on a BatchNorm MLP, with step 1 skipped (a NaN, policy SKIP) so
 * that Adam's t differs from the schedule index. (The kit checks the same within one JVM on every
 * engine; here a fresh process proves nothing lives on in native or static state.)
 */
class FreshJvmResumeTest {
    private static final int N = 3;
    private static final ModelSpec MODEL = new ModelSpec.Mlp(new int[] {6, 5, 3}, Activation.RELU, 0.0, true);
    private static final List<String> OPTIMIZERS = List.of("sgd", "adam", "sam", "agnostic-exact", "agnostic-fast");

    static Optimizer optimizer(String name) {
        Sgd sgd = Sgd.builder().lr(Schedule.cosine(0.1, 2 * N)).momentum(0.9).weightDecay(1e-3).build();
        Adam adam = Adam.builder().lr(Schedule.cosine(0.01, 2 * N)).build();
        return switch (name) {
            case "sgd" -> sgd;
            case "adam" -> adam;
            case "sam" -> Sam.builder().base(sgd).build();
            case "agnostic-exact" -> AgnosticSam.builder().base(adam).build();
            case "agnostic-fast" -> AgnosticSam.builder().base(sgd).variant(AgnosticSam.Variant.FAST).build();
            default -> throw new IllegalArgumentException(name);
        };
    }

    /** Step s's train and validation batches; step 1's train batch holds a NaN. */
    static Batch[] batches(int s) {
        SplittableRandom random = new SplittableRandom(100 + s);
        Batch train = SyntheticBatches.learnable(MODEL, 8, random);
        if (s == 1) {
            train.features().values()[5] = Double.NaN;
        }
        return new Batch[] {train, SyntheticBatches.learnable(MODEL, 4, random)};
    }

    static void steps(Training training, int from, int to) {
        for (int s = from; s < to; s++) {
            Batch[] b = batches(s);
            training.step(b[0], training.program().usesValidationBatch() ? b[1] : null);
        }
    }

    static Engine engine(String name) {
        return Engines.load(name, EngineOptions.DEFAULT.withThreads(1));
    }

    /** The child: restores each optimizer's checkpoint from {@code dir}, runs N steps, writes the result. */
    public static void main(String[] args) {
        Path dir = Path.of(args[1]);
        try (Engine engine = engine(args[0])) {
            for (String name : OPTIMIZERS) {
                try (Network net = engine.build(MODEL, MODEL.initialParameters(7));
                        Training t = Training.start(net, optimizer(name), BadValuePolicy.SKIP)) {
                    t.restore(Checkpoint.read(dir.resolve(name + "-half.safetensors")));
                    steps(t, N, 2 * N);
                    t.checkpoint().write(dir.resolve(name + "-resumed.safetensors"));
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"reference", "djl", "tensorflow"})
    void aCheckpointResumedInAnotherJvmGoesOnBitForBit(String engineName, @TempDir Path dir) throws Exception {
        List<Checkpoint> expected = new ArrayList<>();
        try (Engine engine = engine(engineName)) {
            for (String name : OPTIMIZERS) {
                try (Network net = engine.build(MODEL, MODEL.initialParameters(0));
                        Training t = Training.start(net, optimizer(name), BadValuePolicy.SKIP)) {
                    steps(t, 0, N);
                    t.checkpoint().write(dir.resolve(name + "-half.safetensors"));
                    steps(t, N, 2 * N);
                    expected.add(t.checkpoint());
                }
            }
        }
        Path log = dir.resolve("child.log");
        Process child = new ProcessBuilder(ProcessHandle.current().info().command().orElseThrow(), "-cp",
                System.getProperty("java.class.path"), FreshJvmResumeTest.class.getName(), engineName, dir.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertThat(child.waitFor(180, TimeUnit.SECONDS)).as("the child finished").isTrue();
        assertThat(child.exitValue()).as(Files.readString(log)).isZero();
        for (int i = 0; i < OPTIMIZERS.size(); i++) {
            Checkpoint want = expected.get(i);
            Checkpoint got = Checkpoint.read(dir.resolve(OPTIMIZERS.get(i) + "-resumed.safetensors"));
            String what = engineName + ", " + OPTIMIZERS.get(i);
            assertThat(want.skippedSteps()).as("step 1 was skipped").isEqualTo(1);
            assertThat(List.of(got.steps(), got.skippedSteps())).as(what + ": counters")
                    .isEqualTo(List.of(want.steps(), want.skippedSteps()));
            for (var part : Map.of("parameters", List.of(got.parameters(), want.parameters()), "running statistics",
                    List.of(got.runningStatistics(), want.runningStatistics()), "optimizer state",
                    List.of(got.optimizerState(), want.optimizerState())).entrySet()) {
                List<HostTensor> a = part.getValue().get(0);
                List<HostTensor> b = part.getValue().get(1);
                assertThat(a).as(what + ": " + part.getKey()).hasSameSizeAs(b);
                for (int k = 0; k < a.size(); k++) {
                    assertThat(a.get(k).values()).as(what + ": " + part.getKey() + " " + k).isEqualTo(b.get(k).values());
                }
            }
        }
    }
}
