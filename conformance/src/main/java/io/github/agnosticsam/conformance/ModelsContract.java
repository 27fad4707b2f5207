package io.github.agnosticsam.conformance;

import static io.github.agnosticsam.conformance.Kit.BN_MODEL;
import static io.github.agnosticsam.conformance.Kit.SMALL_CNN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.Adam;
import io.github.agnosticsam.optim.AgnosticSam;
import io.github.agnosticsam.optim.Optimizer;
import io.github.agnosticsam.optim.Sgd;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.spi.UnsupportedFeatureException;
import io.github.agnosticsam.training.Training;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The model descriptions: what the engine builds, against the reference engine's float64 model of
 * the same description (checked against PyTorch in the kit's own tests).
 */
public interface ModelsContract extends EngineContract {

    @TestFactory
    default Stream<DynamicTest> theStandardModelsBuild() {
        return ModelSpec.STANDARD.stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            ModelSpec spec = ModelSpec.standard(name);
            Batch batch = SyntheticBatches.learnable(spec, 3, new SplittableRandom(1));
            try (Network net = kit().build(spec, spec.initialParameters(3)); Network ref = kit().referenceOf(net)) {
                assertThat(net.model()).as("%s: Network.model()", name).isEqualTo(spec);
                assertThat(net.parameters()).as("%s: parameter shapes, as ModelSpec.parameterShapes()", name)
                        .extracting(HostTensor::shape).containsExactlyElementsOf(spec.parameterShapes());
                assertThat(net.runningStatistics()).as("%s: running statistics of a new network, as "
                        + "ModelSpec.initialStatistics() (means 0, variances 1)", name).isEqualTo(spec.initialStatistics());
                double loss = net.evaluate(batch).loss();
                assertThat(loss).as("%s: evaluate() at the initial parameters: near ln(classes) (suspect the "
                        + "model's layers or the initial parameters as stored)", name)
                        .isCloseTo(Math.log(spec.classes()), within(0.5));
                kit().assertLossAgrees(name + ": evaluate() against the reference engine's at the same parameters (suspect "
                        + "the model's layout: weight shapes [out, in], the flatten order, the layers)", loss,
                        ref.evaluate(batch).loss());
            }
        }));
    }

    @Test
    default void theBatchNormMlpStoresItsParametersAndStartsAtTheInitialStatistics() {
        List<HostTensor> init = BN_MODEL.initialParameters(7);
        try (Network net = kit().build(BN_MODEL, init)) {
            assertThat(net.model()).as("Network.model()").isEqualTo(BN_MODEL);
            assertStoredInTheEnginesPrecision(BN_MODEL, net.parameters(), init);
            assertThat(net.runningStatistics()).as("running statistics of a new network: means 0 and variances 1, "
                    + "as torch's BatchNorm1d, in ModelSpec.statisticNames() order").isEqualTo(BN_MODEL.initialStatistics());
        }
    }

    @Test
    default void theSmallCnnHasTheDescriptionsLayout() {
        List<HostTensor> init = new ArrayList<>();
        for (HostTensor p : SMALL_CNN.initialParameters(2)) {
            double[] v = p.values().clone();
            for (int i = 0; i < v.length; i++) {
                v[i] *= 4; // logits far from uniform, so that a wrong layout shows in the loss
            }
            init.add(new HostTensor(p.shape(), v));
        }
        Batch batch = SyntheticBatches.learnable(SMALL_CNN, 10, new SplittableRandom(6));
        try (Network net = kit().build(SMALL_CNN, init); Network ref = kit().referenceOf(net)) {
            assertStoredInTheEnginesPrecision(SMALL_CNN, net.parameters(), init);
            double expected = ref.evaluate(batch).loss();
            assertThat(expected).as("the kit's own check: the reference loss is far from ln(classes)")
                    .isNotCloseTo(Math.log(SMALL_CNN.classes()), within(0.05));
            kit().assertLossAgrees(SMALL_CNN + ": evaluate() against the reference engine's at the same parameters "
                    + "(suspect the layout: convolution weights [out, in, 5, 5], padding 2, max-pooling 2, the "
                    + "flatten order (C, H, W) before the dense layer [classes, flattened])",
                    net.evaluate(batch).loss(), expected);
            assertThat(net.runningStatistics()).as("running statistics of a CNN (it has none)").isEmpty();
        }
    }

    @Test
    default void theBatchNormMlpLearns() {
        assertLearns(BN_MODEL, AgnosticSam.builder().base(Sgd.builder().lr(0.05).momentum(0.9).build())
                .rho1(0.1).rho2(0.05).build(), 30);
    }

    @Test
    default void theSmallCnnLearns() {
        // It starts on a plateau (small signals through two ReLU convolutions); Adam leaves it quickly.
        assertLearns(SMALL_CNN, AgnosticSam.builder().base(Adam.builder().lr(0.02).build()).rho1(0.1).rho2(0.05)
                .build(), 40);
    }

    /** Memorising one batch of {@link SyntheticBatches}: the loss halves within {@code steps} steps. */
    private void assertLearns(ModelSpec model, Optimizer optimizer, int steps) {
        SplittableRandom random = new SplittableRandom(5);
        Batch train = SyntheticBatches.learnable(model, 32, random);
        try (Network net = kit().build(model, model.initialParameters(1)); Training t = Training.start(net, optimizer)) {
            double first = t.step(train, SyntheticBatches.learnable(model, 8, random)).loss();
            double last = first;
            for (int s = 0; s < steps; s++) {
                last = t.step(train, SyntheticBatches.learnable(model, 8, random)).loss();
            }
            assertThat(last).as("%s memorising one batch of 32 in %d steps: the loss must halve (suspect the "
                    + "gradients of the model's layers)", model, steps).isLessThan(first * 0.5);
        }
    }

    /** Parameters as given, in the engine's precision (float64, or rounded to float32). */
    private void assertStoredInTheEnginesPrecision(ModelSpec model, List<HostTensor> stored, List<HostTensor> given) {
        assertThat(stored).as("parameters of %s", model).hasSize(given.size());
        for (int p = 0; p < given.size(); p++) {
            assertThat(stored.get(p).shape()).as("shape of parameter %s of %s", model.parameterNames().get(p), model)
                    .isEqualTo(given.get(p).shape());
            double[] v = given.get(p).values();
            for (int i = 0; i < v.length; i++) {
                assertThat(stored.get(p).values()[i]).as("parameter %s element %d of %s as stored: the value given to "
                        + "Engine.build in the engine's precision (suspect build's copy or layout)",
                        model.parameterNames().get(p), i, model).isEqualTo(kit().float64() ? v[i] : (double) (float) v[i]);
            }
        }
    }

    @Test
    default void unsupportedModelsAreReportedAsUnsupported() {
        try (Network net = kit().engine().build(new ModelSpec.Cnn(), new ModelSpec.Cnn().initialParameters(0))) {
            assertThat(net.model()).isEqualTo(new ModelSpec.Cnn());
        } catch (UnsupportedFeatureException e) {
            assertThat(e.getMessage()).isNotBlank();
        }
    }
}
