package io.github.agnosticsam.engine.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Model;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.evaluator.Accuracy;
import ai.djl.training.listener.TrainingListener;
import ai.djl.training.loss.Loss;
import io.github.agnosticsam.optim.AgnosticSam;
import io.github.agnosticsam.optim.Optimizer;
import io.github.agnosticsam.optim.Sgd;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's quick-start for DJL users compiles and runs, and the README shows this very code. */
class ReadmeQuickStartTest {

    @TempDir
    Path runs;

    @Test
    void quickStartRuns() throws Exception {
        try (NDManager manager = NDManager.newBaseManager()) {
            Random random = new Random(0);
            float[] x = new float[512 * 784];
            float[] y = new float[512];
            for (int i = 0; i < 512; i++) {
                y[i] = i % 10;
                for (int j = 0; j < 784; j++) {
                    x[i * 784 + j] = random.nextFloat() * 0.5f + (j % 10 == i % 10 ? 0.5f : 0);
                }
            }
            ArrayDataset trainSet = new ArrayDataset.Builder().setData(manager.create(x, new Shape(512, 784)))
                    .optLabels(manager.create(y, new Shape(512))).setSampling(64, true).build();
            ArrayDataset testSet = trainSet;
            Model model = Model.newInstance("mlp");
            model.setBlock(new SequentialBlock().add(Linear.builder().setUnits(256).build())
                    .add(Activation.reluBlock()).add(Linear.builder().setUnits(10).build()));

            // quick-start:begin
            Optimizer optimizer = AgnosticSam.builder()
                    .base(Sgd.builder().lr(0.05).momentum(0.9).weightDecay(5e-4).build())
                    .rho1(0.1).rho2(0.05)          // ascend on the train batch, descend on a validation batch
                    .build();
            DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                    .addEvaluator(new Accuracy())
                    .addTrainingListeners(TrainingListener.Defaults.basic())
                    .addTrainingListeners(new TensorBoardTrainingListener(runs.resolve("asam"), optimizer, 10));
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(new Shape(1, 784));
                try (SharpnessAwareTrainer sam = SharpnessAwareTrainer.of(trainer, optimizer)) {
                    sam.fit(3, trainSet, testSet, 42);  // validation batches: uniform from trainSet, 1/4 size
                }
                System.out.println(trainer.getTrainingResult());
                // quick-start:end
                assertThat(trainer.getTrainingResult().getValidateEvaluation("Accuracy")).isGreaterThan(0.8f);
                Map<String, Map<Long, Float>> logged = TensorBoardTrainingListenerTest.scalars(runs.resolve("asam"));
                assertThat(logged.get("train/loss")).hasSize(3 * 512 / 64 / 10);
                assertThat(logged.get("epoch/validate_Accuracy")).hasSize(3);
            }
            model.close();
        }
    }

    @Test
    void readmeShowsThisCode() throws Exception {
        String test = Files.readString(Path.of("src/test/java/io/github/agnosticsam/engine/djl/ReadmeQuickStartTest.java"));
        String readme = Files.readString(Path.of("../README.md"));
        String snippet = test.substring(test.indexOf("// quick-start:begin") + "// quick-start:begin".length(),
                test.indexOf("// quick-start:end"));
        for (String line : snippet.strip().split("\n")) {
            assertThat(readme).as("README quick-start line").contains(line.strip());
        }
    }
}
