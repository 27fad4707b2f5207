package io.github.agnosticsam.engine.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import io.github.agnosticsam.Engines;
import io.github.agnosticsam.conformance.SyntheticBatches;
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
import io.github.agnosticsam.training.Training;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class DjlEngineTest {

    /**
     * Values handed over from Java must be owned by the parameter arrays: an array that only borrows
     * the Java buffer it was made from reads freed memory once that buffer is collected.
     */
    @Test
    void parametersSetFromJavaSurviveGarbageCollection() {
        ModelSpec model = ModelSpec.standard("mlp");
        try (Engine e = Engines.load("djl", new EngineOptions(Device.CPU, 1, Map.of()));
                Network net = e.build(model, model.initialParameters(1))) {
            for (int round = 0; round < 5; round++) {
                List<HostTensor> values = model.initialParameters(100 + round);
                net.setParameters(values);
                for (int i = 0; i < 5; i++) {
                    System.gc();
                    java.nio.ByteBuffer junk = java.nio.ByteBuffer.allocateDirect(4 << 20);
                    while (junk.hasRemaining()) {
                        junk.put((byte) 0xff); // NaN patterns where freed memory is reused
                    }
                }
                List<HostTensor> read = net.parameters();
                for (int p = 0; p < values.size(); p++) {
                    double[] expected = values.get(p).values();
                    double[] actual = read.get(p).values();
                    for (int j = 0; j < expected.length; j++) {
                        assertThat(actual[j]).as("round %d, parameter %d element %d", round, p, j)
                                .isEqualTo((double) (float) expected[j]);
                    }
                }
            }
        }
    }

    /**
     * djl computes in float32: a finite double beyond float32's range would become ±Infinity there, so
     * it is refused, naming the parameter; the float64 reference engine holds it.
     */
    @Test
    void setParametersRefusesValuesFloat32CannotHold() {
        ModelSpec model = ModelSpec.standard("mlp");
        List<HostTensor> huge = model.initialParameters(1);
        huge.get(1).values()[2] = 1e300;
        try (Engine e = Engines.load("djl", new EngineOptions(Device.CPU, 1, Map.of()));
                Network net = e.build(model, model.initialParameters(1))) {
            List<HostTensor> before = net.parameters();
            assertThatThrownBy(() -> net.setParameters(huge)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("parameter " + model.parameterNames().get(1) + " element 2 (row-major) is 1.0E300: the "
                            + "engine's precision holds magnitudes up to 3.4028234663852886E38 (float32)");
            assertThatThrownBy(() -> e.build(model, huge)).isInstanceOf(IllegalArgumentException.class);
            assertThat(net.parameters()).as("the old values").isEqualTo(before);
        }
        try (Engine e = Engines.load("reference", EngineOptions.DEFAULT); Network net = e.build(model, huge)) {
            assertThat(net.parameters().get(1).values()[2]).isEqualTo(1e300);
        }
    }

    @Test
    void isTheDefaultEngineByPriority() {
        assertThat(Engines.provider(null).name()).isEqualTo("djl");
        assertThat(new DjlEngineProvider().isAvailable()).isTrue();
    }

    @Test
    void runsOnTheCpuAndSaysSo() {
        try (Engine e = Engines.load("djl", new EngineOptions(Device.CPU, 1, Map.of()))) {
            assertThat(e.device()).startsWith("cpu()").contains("1 threads");
        }
        try (Engine e = Engines.load("djl", EngineOptions.DEFAULT)) {
            assertThat(e.device()).as("auto picks the CPU on a machine without a GPU").startsWith("cpu()");
        }
    }

    @Test
    void forcingAGpuWhereThereIsNoneIsAClearError() {
        org.junit.jupiter.api.Assumptions.assumeTrue(ai.djl.engine.Engine.getEngine("PyTorch").getGpuCount() == 0);
        assertThatThrownBy(() -> Engines.load("djl", EngineOptions.DEFAULT.withDevice(Device.GPU)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("sees no GPU").hasMessageContaining("pytorch-native-cu");
    }

    @Test
    void buildsTheStandardModelsWithTheirParameterCounts() {
        try (Engine e = Engines.load("djl", EngineOptions.DEFAULT)) {
            for (String name : List.of("mlp", "cnn")) {
                ModelSpec spec = ModelSpec.standard(name);
                List<HostTensor> init = spec.initialParameters(3);
                try (Network net = e.build(spec, init)) {
                    List<HostTensor> back = net.parameters();
                    for (int i = 0; i < init.size(); i++) {
                        assertThat(back.get(i).shape()).isEqualTo(init.get(i).shape());
                        assertThat(back.get(i).values()[0]).isEqualTo((float) init.get(i).values()[0]);
                    }
                    Batch b = batch(spec, 7, new SplittableRandom(1));
                    Evaluation ev = net.evaluate(b);
                    assertThat(ev.count()).isEqualTo(7);
                    // Untrained logits are near uniform: the loss is about ln 10.
                    assertThat(ev.loss()).isCloseTo(Math.log(10), org.assertj.core.api.Assertions.within(0.5));
                }
            }
        }
    }

    @Test
    void cnnTrainsOnADeterministicTask() {
        ModelSpec spec = ModelSpec.standard("cnn");
        SplittableRandom random = new SplittableRandom(5);
        Batch train = batch(spec, 32, random);
        try (Engine e = Engines.load("djl", EngineOptions.DEFAULT); Network net = e.build(spec, spec.initialParameters(1));
                Training t = Training.start(net, AgnosticSam.builder().base(Sgd.builder().lr(0.1).momentum(0.9).build())
                        .variant(AgnosticSam.Variant.FAST).build())) {
            double first = t.step(train, batch(spec, 8, random)).loss();
            double last = first;
            for (int s = 0; s < 40; s++) {
                last = t.step(train, batch(spec, 8, random)).loss();
            }
            assertThat(last).as("memorising one batch").isLessThan(first * 0.7);
        }
    }

    @Test
    void liveNativeArraysStayFlatOverManySteps() {
        ModelSpec spec = new ModelSpec.Mlp(new int[] {20, 32, 5}, io.github.agnosticsam.model.Activation.RELU, 0);
        SplittableRandom random = new SplittableRandom(2);
        AgnosticSam opt = AgnosticSam.builder().base(Sgd.builder().lr(0.01).momentum(0.9).build()).adaptive(true).build();
        try (DjlEngine e = DjlEngine.create(EngineOptions.DEFAULT); Network net = e.build(spec, spec.initialParameters(1));
                Training t = Training.start(net, opt)) {
            Batch train = batch(spec, 16, random);
            Batch validation = batch(spec, 4, random);
            for (int s = 0; s < 20; s++) {
                t.step(train, validation).loss();
            }
            long after20 = liveArrays(e);
            assertThat(after20).as("parameters, state and constants are counted").isGreaterThan(8);
            for (int s = 0; s < 300; s++) {
                t.step(train, validation).loss();
            }
            assertThat(liveArrays(e)).isEqualTo(after20);
        }
    }

    private static long liveArrays(DjlEngine engine) {
        return count(engine.rootManager());
    }

    private static long count(NDManager manager) {
        return manager.getManagedArrays().size();
    }

    static Batch batch(ModelSpec spec, int n, SplittableRandom random) {
        return SyntheticBatches.learnable(spec, n, random);
    }

    @Test
    void aBadStorageOrChecksValueIsRefusedByName() {
        assertThatThrownBy(() -> Engines.load("djl", new EngineOptions(Device.CPU, 1, Map.of(DjlEngine.STORAGE, "flatt"))))
                .hasMessageContaining("djl.storage").hasMessageContaining("'flatt'");
        assertThatThrownBy(() -> Engines.load("djl", new EngineOptions(Device.CPU, 1, Map.of(DjlEngine.CHECKS, "gpu"))))
                .hasMessageContaining("djl.checks").hasMessageContaining("auto, host or device").hasMessageContaining("'gpu'");
        try (Engine e = Engines.load("djl", new EngineOptions(Device.CPU, 1, Map.of(DjlEngine.CHECKS, "device")))) {
            assertThat(e.device()).contains("checks on the device");
        }
    }
}
