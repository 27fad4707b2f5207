package io.github.agnosticsam.conformance;

import static io.github.agnosticsam.conformance.Kit.BN_MODEL;
import static io.github.agnosticsam.conformance.Kit.MODEL;
import static io.github.agnosticsam.conformance.Kit.RELU_MODEL;
import static io.github.agnosticsam.conformance.Kit.STEPS;
import static io.github.agnosticsam.conformance.Kit.assertClose;
import static io.github.agnosticsam.conformance.Kit.poison;
import static io.github.agnosticsam.conformance.Kit.sgd;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.spi.StateSlot;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.spi.UnsupportedFeatureException;
import io.github.agnosticsam.training.BadValuePolicy;
import io.github.agnosticsam.training.Checkpoint;
import io.github.agnosticsam.training.CheckpointException;
import io.github.agnosticsam.training.StepPrograms;
import io.github.agnosticsam.training.StepResult;
import io.github.agnosticsam.training.Training;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Checkpoints ({@code Training.checkpoint}, {@code Training.restore}): bit for bit on the same
 * engine, within the engines' rounding across engines, and nothing changed by a refused restore
 * or a refused {@code setState} / {@code setRunningStatistics}. On the BatchNorm MLP when the
 * engine builds it, with cosine learning rates.
 */
public interface CheckpointsContract extends EngineContract {

    @TestFactory
    default Stream<DynamicTest> aRestoredRunGoesOnBitForBit() {
        return checkpointOptimizers().entrySet().stream().flatMap(e -> Stream.of(
                DynamicTest.dynamicTest(e.getKey(), () -> assertResumesBitForBit(e.getKey(), e.getValue(), -1)),
                DynamicTest.dynamicTest(e.getKey() + ", step 1 skipped", () -> assertResumesBitForBit(
                        e.getKey() + " with step 1 skipped", e.getValue(), 1))));
    }

    /**
     * Runs STEPS steps (step {@code skipped} with NaN in the train batch), a checkpoint written to
     * a file, STEPS more; then a network built with other parameters restores the file and runs
     * the same STEPS: everything must be bit-identical.
     */
    private void assertResumesBitForBit(String what, Optimizer optimizer, int skipped) {
        ModelSpec model = kit().statisticsModel();
        Data data = new Data(40, 2 * STEPS);
        Path file = kit().directory().resolve("run.safetensors");
        Checkpoint written;
        RunState expected;
        try (Network net = kit().build(model, model.initialParameters(40));
                Training t = Training.start(net, optimizer, BadValuePolicy.SKIP)) {
            for (int s = 0; s < STEPS; s++) {
                assertThat(step(t, data, s, s == skipped).applied()).as("%s: step %d applied", what, s)
                        .isEqualTo(s != skipped);
            }
            written = checkpoint(t);
            written.write(file);
            for (int s = STEPS; s < 2 * STEPS; s++) {
                step(t, data, s, false);
            }
            expected = RunState.of(t);
        }
        try (Network net = kit().build(model, model.initialParameters(41));
                Training t = Training.start(net, optimizer, BadValuePolicy.SKIP)) {
            restore(t, Checkpoint.read(file));
            assertThat(RunState.of(t)).as("%s: right after the restore, the run is the checkpoint's (suspect "
                    + "CompiledStep.setState, Network.setRunningStatistics or setParameters: values ignored, "
                    + "reordered or left out)", what).isEqualTo(RunState.of(written));
            for (int s = STEPS; s < 2 * STEPS; s++) {
                step(t, data, s, false);
            }
            assertThat(RunState.of(t)).as("%s: %d steps after the restore, as %d steps after the checkpoint "
                    + "without a break: parameters, running statistics, optimizer state and counters "
                    + "bit-identical (suspect a step that depends on something a checkpoint does not carry, "
                    + "or a setter that rounds)", what, STEPS, STEPS).isEqualTo(expected);
        }
    }

    @Test
    default void aCheckpointOfAnotherOptimizerConfigurationOrModelIsRefusedAndChangesNothing() {
        ModelSpec model = kit().statisticsModel();
        Data data = new Data(42, STEPS + 1);
        Checkpoint written;
        try (Network net = kit().build(model, model.initialParameters(42));
                Training t = Training.start(net, crossEngineOptimizer(10))) {
            for (int s = 0; s < STEPS; s++) {
                step(t, data, s, false);
            }
            written = checkpoint(t);
        }
        try (Network net = kit().build(model, model.initialParameters(43));
                Training t = Training.start(net, crossEngineOptimizer(20))) {
            step(t, data, STEPS, false);
            RunState before = RunState.of(t);
            assertThatThrownBy(() -> t.restore(written)).as("restoring a checkpoint of a cosine schedule over 10 "
                    + "steps into a run of one over 20").isInstanceOf(CheckpointException.class)
                    .hasMessageContaining("base.lr.totalSteps").hasMessageContaining("10").hasMessageContaining("20");
            assertThat(RunState.of(t)).as("the run after a refused restore (another optimizer configuration): "
                    + "bit-identical").isEqualTo(before);
        }
        try (Network net = kit().build(RELU_MODEL, RELU_MODEL.initialParameters(43));
                Training t = Training.start(net, crossEngineOptimizer(10))) {
            step(t, data, STEPS, false);
            RunState before = RunState.of(t);
            assertThatThrownBy(() -> t.restore(written)).as("restoring a checkpoint of %s into %s", model,
                    RELU_MODEL).isInstanceOf(CheckpointException.class).hasMessageContaining(model.toString())
                    .hasMessageContaining(RELU_MODEL.toString());
            assertThat(RunState.of(t)).as("the run after a refused restore (another model): bit-identical")
                    .isEqualTo(before);
        }
    }

    @Test
    default void aCheckpointOfTheReferenceEngineRestoresHereAndGoesOnAsThere() {
        assertCarriesOver(kit().reference(), kit().engine(),
                "the reference engine's checkpoint, restored on " + kit().engine().name());
    }

    @Test
    default void aCheckpointOfThisEngineRestoresOnTheReferenceEngineAndGoesOnAsHere() {
        assertCarriesOver(kit().engine(), kit().reference(),
                kit().engine().name() + "'s checkpoint, restored on the reference engine");
    }

    /**
     * STEPS steps of Agnostic-SAM with SGD momentum on {@code from}, a checkpoint written to a file,
     * STEPS more; {@code to} restores the file and runs the same steps: the same counters, and
     * values within the rounding of the engine under test.
     */
    private void assertCarriesOver(Engine from, Engine to, String what) {
        ModelSpec model = kit().statisticsModel();
        Data data = new Data(44, 2 * STEPS);
        Path file = kit().directory().resolve("carried.safetensors");
        Optimizer optimizer = crossEngineOptimizer(10);
        RunState expected;
        try (Network net = buildOn(from, model, model.initialParameters(44));
                Training t = Training.start(net, optimizer)) {
            for (int s = 0; s < STEPS; s++) {
                step(t, data, s, false);
            }
            Checkpoint written = checkpoint(t);
            assertThat(written.engine()).as("the engine a checkpoint names (Network.engineName())")
                    .isEqualTo(from.name());
            written.write(file);
            for (int s = STEPS; s < 2 * STEPS; s++) {
                step(t, data, s, false);
            }
            expected = RunState.of(t);
        }
        try (Network net = buildOn(to, model, model.initialParameters(45)); Training t = Training.start(net, optimizer)) {
            restore(t, Checkpoint.read(file));
            for (int s = STEPS; s < 2 * STEPS; s++) {
                step(t, data, s, false);
            }
            RunState actual = RunState.of(t);
            assertThat(actual.counters()).as("%s: steps, applied and skipped steps", what)
                    .isEqualTo(expected.counters());
            double tolerance = 10 * kit().relativeRounding(); // djl and tensorflow differ by 1.4e-7 at most
            String suspect = what + ", " + STEPS + " steps on (suspect CompiledStep.setState, "
                    + "Network.setRunningStatistics, or the precision of the values set)";
            assertClose(suspect + ": parameters", actual.parameters(), expected.parameters(), tolerance);
            assertClose(suspect + ": running statistics", actual.statistics(), expected.statistics(), tolerance);
            assertClose(suspect + ": optimizer state", actual.state(), expected.state(), tolerance);
        }
    }

    @Test
    default void setStateRefusesAWrongShapeANanOrAWrongCountNamingTheTensorAndChangesNothing() {
        Data data = new Data(46);
        StepProgram program = StepPrograms.of(Adam.builder().lr(0.01).build());
        try (Network net = kit().build(data.init()); CompiledStep step = net.compile(program)) {
            step.run(data.train(0), null, program.scalars(0)).read();
            List<HostTensor> before = supported(step::state);
            List<String> names = StateSlot.names(program.state(MODEL.parameterShapes()));
            assertRefusedAndNothingChanged(step::setState, step::state, "optimizer-state", names, before);
        }
    }

    @Test
    default void setRunningStatisticsRefusesAWrongShapeANanOrAWrongCountNamingTheTensorAndChangesNothing() {
        Assumptions.assumeTrue(kit().statisticsModel() == BN_MODEL, "engine does not build " + BN_MODEL);
        Data data = new Data(47);
        try (Network net = kit().build(BN_MODEL, BN_MODEL.initialParameters(47)); Training t = Training.start(net, sgd(0.1))) {
            t.step(data.train(0));
            assertRefusedAndNothingChanged(net::setRunningStatistics, net::runningStatistics, "running statistic",
                    BN_MODEL.statisticNames(), net.runningStatistics());
        }
    }

    /**
     * New values that differ from {@code before} in every tensor, with a NaN in the last, a wrong
     * shape or one tensor too few, are refused naming the tensor, and change nothing; then the new
     * values without the NaN are set and read back exactly.
     */
    private void assertRefusedAndNothingChanged(Consumer<List<HostTensor>> set,
            Supplier<List<HostTensor>> get, String kind, List<String> names,
            List<HostTensor> before) {
        int last = before.size() - 1;
        assertThat(last).as("the kit's own check: %s tensors to set", kind).isPositive();
        List<HostTensor> good = new ArrayList<>();
        for (int i = 0; i < before.size(); i++) {
            double[] v = new double[before.get(i).size()];
            for (int j = 0; j < v.length; j++) {
                v[j] = (1 + i + j % 7) / 8.0; // exact in float32, unlike what a step leaves
            }
            good.add(new HostTensor(before.get(i).shape(), v));
        }
        List<HostTensor> nan = new ArrayList<>(good);
        nan.set(last, good.get(last).copy());
        nan.get(last).values()[2] = Double.NaN;
        List<HostTensor> wrongShape = new ArrayList<>(good);
        wrongShape.set(1, HostTensor.zeros(before.get(1).size() + 1));
        String method = kind.equals("running statistic") ? "setRunningStatistics" : "setState";
        supported(() -> {
            set.accept(before); // the values it has: aborted here when the engine cannot set them
            return null;
        });
        assertThatThrownBy(() -> set.accept(nan)).as("%s with NaN in %s, after new values in the others", method,
                names.get(last)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(kind + " " + names.get(last)).hasMessageContaining("element 2")
                .hasMessageContaining("NaN");
        assertThatThrownBy(() -> set.accept(wrongShape)).as("%s with %s of a wrong shape", method, names.get(1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(kind + " " + names.get(1))
                .hasMessageContaining(Arrays.toString(before.get(1).shape()))
                .hasMessageContaining("[" + (before.get(1).size() + 1) + "]");
        assertThatThrownBy(() -> set.accept(good.subList(0, last))).as("%s with one tensor too few", method)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(kind + " tensors, got " + last);
        assertThat(get.get()).as("%s values after refused %s calls: bit-identical (suspect a setter that stores "
                + "the tensors before the one it refuses)", kind, method).isEqualTo(before);
        set.accept(good);
        assertThat(get.get()).as("%s values after %s: the values set (suspect %s: values ignored, reordered or "
                + "left out)", kind, method, method).isEqualTo(good);
    }

    /** SGD with momentum, SGD's and Adam's state under SAM and Agnostic-SAM: every kind of state. */
    private Map<String, Optimizer> checkpointOptimizers() {
        Sgd sgd = Sgd.builder().lr(Schedule.cosine(0.1, 10)).momentum(0.9).build();
        Adam adam = Adam.builder().lr(Schedule.cosine(0.02, 10)).build();
        Map<String, Optimizer> out = new LinkedHashMap<>();
        out.put("SGD with momentum", sgd);
        out.put("Adam", adam);
        out.put("SAM over SGD with momentum", Sam.builder().base(sgd).rho(0.1).build());
        out.put("Agnostic-SAM EXACT over Adam", AgnosticSam.builder().base(adam).rho1(0.2).rho2(0.1).build());
        out.put("Agnostic-SAM FAST over SGD with momentum", AgnosticSam.builder().base(sgd).rho1(0.2).rho2(0.1)
                .variant(AgnosticSam.Variant.FAST).build());
        return out;
    }

    private Optimizer crossEngineOptimizer(long totalSteps) {
        return AgnosticSam.builder().base(Sgd.builder().lr(Schedule.cosine(0.05, totalSteps)).momentum(0.9).build())
                .rho1(0.1).rho2(0.05).build();
    }

    /** Step {@code s} of the data, with NaN in the train batch when {@code poisoned}. */
    private StepResult step(Training t, Data data, int s, boolean poisoned) {
        Batch train = poisoned ? poison(data.train(s), Double.NaN) : data.train(s);
        return t.program().usesValidationBatch() ? t.step(train, data.validation(s)) : t.step(train);
    }

    private Checkpoint checkpoint(Training t) {
        return supported(t::checkpoint);
    }

    private void restore(Training t, Checkpoint checkpoint) {
        supported(() -> {
            t.restore(checkpoint);
            return null;
        });
    }

    /** The call's result; aborted, not failed, when the engine does not support checkpoints. */
    private <R> R supported(Supplier<R> call) {
        try {
            return call.get();
        } catch (UnsupportedFeatureException e) {
            Assumptions.abort("engine does not support checkpoints: " + e.getMessage());
            throw e;
        }
    }

    private Network buildOn(Engine on, ModelSpec model, List<HostTensor> init) {
        return on == kit().engine() ? kit().build(model, init) : on.build(model, init);
    }
}
