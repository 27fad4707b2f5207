package io.github.agnosticsam.engine.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.agnosticsam.AgnosticSam;
import io.github.agnosticsam.Batch;
import io.github.agnosticsam.Engine;
import io.github.agnosticsam.EngineOptions;
import io.github.agnosticsam.Engines;
import io.github.agnosticsam.HostTensor;
import io.github.agnosticsam.ModelSpec;
import io.github.agnosticsam.Network;
import io.github.agnosticsam.Sgd;
import io.github.agnosticsam.Training;
import io.github.agnosticsam.conformance.CaseResult;
import io.github.agnosticsam.conformance.CaseRunner;
import io.github.agnosticsam.conformance.ConformanceCase;
import io.github.agnosticsam.conformance.GoldenCases;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The residual CNN with BatchNorm (docs/models.md) on the tensorflow engine. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TfResNetTest {
    private Engine engine;

    @BeforeAll
    void load() {
        engine = Engines.load("tensorflow", EngineOptions.DEFAULT);
    }

    @AfterAll
    void close() {
        engine.close();
    }

    @Test
    void twoAgnosticSamStepsOfASmallResNetAgreeWithPyTorch() {
        ConformanceCase c = GoldenCases.load("resnet-agnostic-sam-exact-relu");
        assertThat(c.model()).isEqualTo(new ModelSpec.ResNet(8, 4, new int[] {16}, 2, 3));
        CaseResult r = CaseRunner.run(engine, c);
        System.out.println("tensorflow: " + r.line());
        assertThat(r.outcome()).as(r.line()).isEqualTo(CaseResult.Outcome.PASS);
    }

    @Test
    void resnetSmallBuildsAndTrains() {
        ModelSpec spec = ModelSpec.standard("resnet-small");
        SplittableRandom random = new SplittableRandom(4);
        Batch train = batch(spec, 32, random);
        try (Network net = engine.build(spec, spec.initialParameters(2))) {
            assertThat(net.parameters()).hasSize(50).extracting(HostTensor::shape)
                    .containsExactlyElementsOf(spec.parameterShapes());
            assertThat(net.runningStatistics()).isEqualTo(spec.initialStatistics());
            assertThat(net.evaluate(train).loss()).as("untrained: near ln 10").isCloseTo(Math.log(10), within(0.5));
            try (Training t = Training.start(net, AgnosticSam.builder()
                    .base(Sgd.builder().lr(0.05).momentum(0.9).build()).variant(AgnosticSam.Variant.FAST).build())) {
                double first = t.step(train, batch(spec, 8, random)).loss();
                assertThat(net.runningStatistics()).as("the clean pass moves the running statistics")
                        .isNotEqualTo(spec.initialStatistics());
                double last = first;
                long start = System.nanoTime();
                int steps = 15;
                for (int s = 0; s < steps; s++) {
                    last = t.step(train, batch(spec, 8, random)).loss();
                }
                System.out.printf("tensorflow: resnet-small, batch 32, %.1f ms per Agnostic-SAM (fast) step%n",
                        (System.nanoTime() - start) / 1e6 / steps);
                assertThat(last).as("memorising one batch").isLessThan(first * 0.7);
            }
        }
    }

    /** Images whose bright band of columns is the label: learnable. */
    private static Batch batch(ModelSpec spec, int n, SplittableRandom random) {
        int size = spec.inputShape()[1];
        double[] x = new double[n * size * size];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = random.nextInt(spec.classes());
            for (int r = 0; r < size; r++) {
                for (int col = 0; col < size; col++) {
                    double bright = col * spec.classes() / size == y[i] ? 0.8 : 0.1;
                    x[(i * size + r) * size + col] = bright + 0.2 * random.nextDouble();
                }
            }
        }
        return new Batch(HostTensor.of(x, n, 1, size, size), y);
    }
}
