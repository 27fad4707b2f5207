package io.github.agnosticsam.engine.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.agnosticsam.Engines;
import io.github.agnosticsam.conformance.SyntheticBatches;
import io.github.agnosticsam.model.Activation;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.Evaluation;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.AgnosticSam;
import io.github.agnosticsam.optim.Sgd;
import io.github.agnosticsam.spi.Device;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.training.BadValuePolicy;
import io.github.agnosticsam.training.StepPrograms;
import io.github.agnosticsam.training.Training;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TfEngineTest {
    private static final ModelSpec TWO_LAYERS = new ModelSpec.Mlp(new int[] {10, 16, 3}, Activation.RELU, 0);
    private static final ModelSpec THREE_LAYERS = new ModelSpec.Mlp(new int[] {10, 16, 8, 3}, Activation.RELU, 0);

    private static EngineOptions storage(String storage) {
        return new EngineOptions(Device.CPU, 0, Map.of(TfEngine.STORAGE, storage));
    }

    /** tensorflow's variables are float32: a finite double beyond its range is refused, naming the parameter. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"flat", "tensors"})
    void setParametersRefusesValuesFloat32CannotHold(String storage) {
        List<HostTensor> huge = TWO_LAYERS.initialParameters(1);
        huge.get(0).values()[5] = -1e39;
        try (Engine e = Engines.load("tensorflow", storage(storage));
                Network net = e.build(TWO_LAYERS, TWO_LAYERS.initialParameters(1))) {
            List<HostTensor> before = net.parameters();
            assertThatThrownBy(() -> net.setParameters(huge)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("parameter " + TWO_LAYERS.parameterNames().get(0) + " element 5 (row-major) is -1.0E39: "
                            + "the engine's precision holds magnitudes up to 3.4028234663852886E38 (float32)");
            assertThat(net.parameters()).as("the old values").isEqualTo(before);
        }
    }

    @Test
    void isChosenByNameAndRanksBelowDjl() {
        assertThat(new TfEngineProvider().priority()).isEqualTo(50);
        assertThat(Engines.providers()).extracting(p -> p.name()).contains("tensorflow");
    }

    @Test
    void forcingAGpuWhereThereIsNoneIsAClearError() {
        try (Engine auto = Engines.load("tensorflow", EngineOptions.DEFAULT)) {
            org.junit.jupiter.api.Assumptions.assumeTrue(auto.device().startsWith("cpu"), "this machine has no GPU");
        }
        assertThatThrownBy(() -> Engines.load("tensorflow", EngineOptions.DEFAULT.withDevice(Device.GPU)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("finds no GPU")
                .hasMessageContaining("linux-x86_64-gpu");
    }

    /** The step is traced once: running it adds nothing to the graph. */
    @Test
    void stepsDoNotGrowTheGraph() {
        ModelSpec spec = new ModelSpec.Mlp(new int[] {10, 16, 3}, Activation.RELU, 0);
        SplittableRandom random = new SplittableRandom(4);
        try (Engine e = Engines.load("tensorflow", EngineOptions.DEFAULT.withDevice(Device.CPU));
                TfNetwork net = (TfNetwork) e.build(spec, spec.initialParameters(2));
                Training t = Training.start(net, AgnosticSam.builder().base(Sgd.builder().lr(0.05).momentum(0.9).build())
                        .adaptive(true).build())) {
            Batch train = batch(spec, 8, random);
            Batch validation = batch(spec, 2, random);
            t.step(train, validation).loss();
            long ops = count(net.graph().operations());
            double first = t.step(train, validation).loss();
            double last = first;
            for (int s = 0; s < 100; s++) {
                last = t.step(train, validation).loss();
            }
            assertThat(count(net.graph().operations())).isEqualTo(ops);
            assertThat(last).as("it trains").isLessThan(first);
            Evaluation ev = net.evaluate(train);
            assertThat(ev.count()).isEqualTo(8);
            assertThat(ev.loss()).isCloseTo(t.step(train, validation).loss(), org.assertj.core.api.Assertions.within(1e-5));
        }
    }

    /**
     * The nodes a step runs are known once it is traced, are part of the graph, and grow with the
     * parameter tensors: a third layer adds forward and backward nodes.
     */
    @Test
    void countsTheNodesAStepRuns() {
        long two = stepNodes(TWO_LAYERS);
        long three = stepNodes(THREE_LAYERS);
        assertThat(two).isPositive();
        assertThat(three).isGreaterThan(two);
    }

    /**
     * The optimizer's part of a step — its nodes less those of the bare program of the same passes —
     * is as many nodes for three layers as for two on flat storage, and grows with the tensors on one
     * variable per tensor.
     */
    @ParameterizedTest
    @ValueSource(strings = {"flat", "tensors"})
    void onFlatStorageTheOptimizerTakesTheSameNodesWhateverTheTensors(String storage) {
        long two = optimizerNodes(storage, TWO_LAYERS);
        long three = optimizerNodes(storage, THREE_LAYERS);
        if (storage.equals("flat")) {
            assertThat(three).isEqualTo(two);
        } else {
            assertThat(three).isGreaterThan(two);
        }
    }

    private static long optimizerNodes(String storage, ModelSpec spec) {
        AgnosticSam optimizer = AgnosticSam.builder().base(Sgd.builder().lr(0.05).momentum(0.9).build()).build();
        try (Engine e = Engines.load("tensorflow", storage(storage));
                TfNetwork net = (TfNetwork) e.build(spec, spec.initialParameters(2));
                Training t = Training.start(net, optimizer)) {
            return t.operationsPerStep() - net.compile(StepPrograms.bareGradients(optimizer)).operationsPerStep();
        }
    }

    /**
     * Flat storage by default: one variable of every parameter; {@code tensors}, one each. Either
     * way the network hands out the same tensors, and the engine property wins over the system
     * property of the same name, which is read too.
     */
    @Test
    void storageIsOneVectorByDefaultOrOneVariablePerTensor() {
        List<HostTensor> init = TWO_LAYERS.initialParameters(2);
        try (TfEngine flat = TfEngine.create(EngineOptions.DEFAULT.withDevice(Device.CPU));
                TfEngine tensors = TfEngine.create(storage("tensors"));
                TfNetwork one = (TfNetwork) flat.build(TWO_LAYERS, init);
                TfNetwork each = (TfNetwork) tensors.build(TWO_LAYERS, init)) {
            assertThat(one.parameterHandles()).hasSize(1);
            assertThat(each.parameterHandles()).hasSize(4);
            assertThat(tensors.device()).endsWith(", one variable per parameter");
            assertThat(flat.device()).doesNotContain("variable");
            assertThat(one.parameters()).isEqualTo(each.parameters());
        }
        System.setProperty(TfEngine.STORAGE, "tensors");
        try (TfEngine bySystem = TfEngine.create(EngineOptions.DEFAULT.withDevice(Device.CPU));
                TfEngine byOption = TfEngine.create(storage("flat"))) {
            assertThat(bySystem.device()).endsWith(", one variable per parameter");
            assertThat(byOption.device()).doesNotContain("variable");
        } finally {
            System.clearProperty(TfEngine.STORAGE);
        }
    }

    /**
     * A skipped step names the tensor that went bad, the last of the flat vector too: only b1's update
     * overflows (a huge bias under a huge weight decay), so the flags of the others must say finite.
     */
    @ParameterizedTest
    @ValueSource(strings = {"flat", "tensors"})
    void aSkippedStepNamesTheOneParameterThatWentBad(String storage) {
        List<HostTensor> init = new ArrayList<>(TWO_LAYERS.initialParameters(2));
        init.set(3, HostTensor.of(new double[] {1e30, 0, 0}, 3));
        try (Engine e = Engines.load("tensorflow", storage(storage)); Network net = e.build(TWO_LAYERS, init);
                Training t = Training.start(net, Sgd.builder().lr(1e4).weightDecay(1e5).build(), BadValuePolicy.SKIP)) {
            assertThat(t.step(batch(TWO_LAYERS, 8, new SplittableRandom(6))).skipReason())
                    .contains("the update made parameter b1 NaN or infinite");
        }
    }

    @Test
    void anUnknownStorageIsRefused() {
        assertThatThrownBy(() -> TfEngine.create(storage("packed"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tensorflow.storage").hasMessageContaining("'packed'")
                .hasMessageContaining("flat or tensors");
    }

    private static long stepNodes(ModelSpec spec) {
        try (Engine e = Engines.load("tensorflow", EngineOptions.DEFAULT.withDevice(Device.CPU));
                TfNetwork net = (TfNetwork) e.build(spec, spec.initialParameters(2));
                Training t = Training.start(net, Sgd.builder().lr(0.05).momentum(0.9).build())) {
            long nodes = t.operationsPerStep();
            assertThat(nodes).isLessThanOrEqualTo(count(net.graph().operations()));
            t.step(batch(spec, 8, new SplittableRandom(3)));
            assertThat(t.operationsPerStep()).isEqualTo(nodes);
            return nodes;
        }
    }

    /** A run executes at most the nodes the step was traced into (the graph optimiser folds some). */
    @Test
    void aRunExecutesAtMostTheTracedNodes() {
        ModelSpec spec = ModelSpec.standard("mlp");
        Sgd sgd = Sgd.builder().lr(0.05).momentum(0.9).weightDecay(5e-4).build();
        try (Engine e = Engines.load("tensorflow", EngineOptions.DEFAULT.withDevice(Device.CPU));
                TfNetwork net = (TfNetwork) e.build(spec, spec.initialParameters(2));
                Training t = Training.start(net, sgd);
                TfStep step = (TfStep) net.compile(t.program())) {
            long executed = step.executedOperations(batch(spec, 8, new SplittableRandom(3)), null, new double[] {0.05});
            assertThat(executed).isPositive().isLessThanOrEqualTo(step.operationsPerStep());
        }
    }

    /** Setting state, statistics and parameters again and again reuses the setters made the first time. */
    @ParameterizedTest
    @ValueSource(strings = {"flat", "tensors"})
    void restoringDoesNotGrowTheGraph(String storage) {
        ModelSpec spec = new ModelSpec.Mlp(new int[] {10, 16, 3}, Activation.RELU, 0, true);
        SplittableRandom random = new SplittableRandom(5);
        try (Engine e = Engines.load("tensorflow", storage(storage));
                TfNetwork net = (TfNetwork) e.build(spec, spec.initialParameters(2));
                Training t = Training.start(net, Sgd.builder().lr(0.05).momentum(0.9).build())) {
            t.step(batch(spec, 8, random));
            io.github.agnosticsam.training.Checkpoint first = t.checkpoint();
            t.step(batch(spec, 8, random));
            t.restore(first);
            long ops = count(net.graph().operations());
            for (int i = 0; i < 5; i++) {
                t.step(batch(spec, 8, random));
                t.restore(first);
            }
            assertThat(count(net.graph().operations())).as("graph operations after 5 more restores").isEqualTo(ops);
            assertThat(net.parameters()).as("parameters after the last restore").isEqualTo(first.parameters());
            assertThat(net.runningStatistics()).as("running statistics after the last restore")
                    .isEqualTo(first.runningStatistics());
            assertThat(t.optimizerState()).as("optimizer state after the last restore").isEqualTo(first.optimizerState());
        }
    }

    @Test
    void buildsTheCnn() {
        ModelSpec spec = ModelSpec.standard("cnn");
        List<HostTensor> init = spec.initialParameters(1);
        try (Engine e = Engines.load("tensorflow", EngineOptions.DEFAULT); var net = e.build(spec, init)) {
            assertThat(net.parameters()).hasSize(6);
            Evaluation ev = net.evaluate(batch(spec, 3, new SplittableRandom(1)));
            assertThat(ev.loss()).isCloseTo(Math.log(10), org.assertj.core.api.Assertions.within(0.5));
        }
    }

    private static long count(Iterator<?> it) {
        long n = 0;
        while (it.hasNext()) {
            it.next();
            n++;
        }
        return n;
    }

    static Batch batch(ModelSpec spec, int n, SplittableRandom random) {
        return SyntheticBatches.learnable(spec, n, random);
    }
}
