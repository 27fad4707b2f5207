package io.github.agnosticsam.engine.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.agnosticsam.Engines;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.Evaluation;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.Optimizer;
import io.github.agnosticsam.optim.Optimizers;
import io.github.agnosticsam.optim.Sgd;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.tensorboard.TensorBoardListener;
import io.github.agnosticsam.training.StepResult;
import io.github.agnosticsam.training.Training;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.Event;

/** The README's quick-start for TensorFlow Java users compiles and runs, and the README shows this code. */
class ReadmeQuickStartTest {

    @Test
    void quickStartRuns() {
        ModelSpec spec = ModelSpec.standard("mlp");
        SplittableRandom random = new SplittableRandom(3);
        Batch[] trainBatches = new Batch[20];
        Batch[] validationBatches = new Batch[20];
        for (int i = 0; i < 20; i++) {
            trainBatches[i] = TfEngineTest.batch(spec, 64, random);
            validationBatches[i] = TfEngineTest.batch(spec, 16, random);
        }
        Batch testBatch = TfEngineTest.batch(spec, 200, random);
        int steps = 20;
        double accuracy;

        // quick-start:begin
        ModelSpec model = ModelSpec.standard("mlp");        // 784-256-10, or "cnn"
        Optimizer optimizer = Optimizers.named("agnostic-sam")
                .base(Sgd.builder().lr(0.05).momentum(0.9).weightDecay(5e-4).build())
                .build();
        try (Engine engine = Engines.load("tensorflow", EngineOptions.DEFAULT);
             Network network = engine.build(model, model.initialParameters(0));
             Training training = Training.start(network, optimizer)) {
            for (int s = 0; s < steps; s++) {                // each step is one Session.run
                StepResult r = training.step(trainBatches[s], validationBatches[s]);
            }
            Evaluation test = network.evaluate(testBatch);
            // quick-start:end
            accuracy = test.accuracy();
        }
        assertThat(accuracy).isGreaterThan(0.8);
    }

    /** README's "Watch it train": a Training user's TensorBoard log, read back with TensorFlow's own Event classes. */
    @Test
    void tensorBoardListenerRuns(@TempDir Path runs) throws Exception {
        ModelSpec model = ModelSpec.standard("mlp");
        SplittableRandom random = new SplittableRandom(4);
        Batch train = TfEngineTest.batch(model, 64, random);
        Batch validation = TfEngineTest.batch(model, 16, random);
        Batch testBatch = TfEngineTest.batch(model, 200, random);
        Optimizer optimizer = Optimizers.named("agnostic-sam").base(Sgd.builder().lr(0.05).build()).build();
        try (Engine engine = Engines.load("tensorflow", EngineOptions.DEFAULT);
             Network network = engine.build(model, model.initialParameters(0))) {
            // tensorboard:begin
            try (TensorBoardListener board = TensorBoardListener.open(runs.resolve("asam"), optimizer, 10);
                 Training training = Training.start(network, optimizer)) {
                training.listen(board);                         // train/loss, train/lr, train/rho1, ... every 10 steps
                for (int s = 0; s < 20; s++) {
                    training.step(train, validation);
                }
                double accuracy = network.evaluate(testBatch).accuracy();
                board.epoch(training.steps(), Map.of("epoch/test_accuracy", accuracy));
                board.parameters(training.steps(), network);    // histograms
            }
            // tensorboard:end
        }
        Map<String, List<Long>> steps = new TreeMap<>();
        for (Path f : Files.list(runs.resolve("asam")).toList()) {
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.LITTLE_ENDIAN);
            while (b.hasRemaining()) {
                byte[] data = new byte[(int) b.getLong()];
                b.getInt();
                b.get(data);
                b.getInt();
                Event e = Event.parseFrom(data);
                e.getSummary().getValueList().forEach(v -> steps.computeIfAbsent(v.getTag(), t -> new ArrayList<>())
                        .add(e.getStep()));
            }
        }
        assertThat(steps.get("train/loss")).containsExactly(10L, 20L);
        assertThat(steps.get("train/rho2")).containsExactly(10L, 20L);
        assertThat(steps.get("epoch/test_accuracy")).containsExactly(20L);
        assertThat(steps).containsKey("parameters/" + model.parameterNames().get(0));
    }

    @Test
    void readmeShowsThisCode() throws Exception {
        String test = Files.readString(Path.of("src/test/java/io/github/agnosticsam/engine/tensorflow/ReadmeQuickStartTest.java"));
        String readme = Files.readString(Path.of("../README.md"));
        for (String name : List.of("quick-start", "tensorboard")) {
            String snippet = test.substring(test.indexOf("// " + name + ":begin") + ("// " + name + ":begin").length(),
                    test.indexOf("// " + name + ":end"));
            for (String line : snippet.strip().split("\n")) {
                assertThat(readme).as("README " + name + " line").contains(line.strip());
            }
        }
    }
}
