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
import io.github.agnosticsam.training.StepResult;
import io.github.agnosticsam.training.Training;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

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

    @Test
    void readmeShowsThisCode() throws Exception {
        String test = Files.readString(Path.of("src/test/java/io/github/agnosticsam/engine/tensorflow/ReadmeQuickStartTest.java"));
        String readme = Files.readString(Path.of("../README.md"));
        String snippet = test.substring(test.indexOf("// quick-start:begin") + "// quick-start:begin".length(),
                test.indexOf("// quick-start:end"));
        for (String line : snippet.strip().split("\n")) {
            assertThat(readme).as("README quick-start line").contains(line.strip());
        }
    }
}
