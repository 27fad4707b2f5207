package io.github.agnosticsam.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.Evaluation;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.GradientOracle;
import io.github.agnosticsam.spi.LossAndGradients;
import io.github.agnosticsam.spi.Pass;
import io.github.agnosticsam.spi.StepOutput;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.spi.Tensors;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * The proof that the kit bites: the whole kit (every test of {@link EngineConformanceTest}, run
 * in-process through the JUnit Platform launcher as {@link PlantedBugKit}) on the reference engine
 * with one planted bug at a time. Each bug must fail at least one kit test that the plain
 * reference engine passes, and the plain engine must pass them all. The kit tests that catch each
 * bug are printed at the end (docs/conformance-kit.md lists them).
 */
class KitBitesTest {
    private static KitRun plain;
    private static final Map<String, Set<String>> CAUGHT = new LinkedHashMap<>();

    /** A bug and how to plant it in a reference engine. */
    record PlantedBug(String name, UnaryOperator<Engine> plant) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<PlantedBug> plantedBugs() {
        Stream<PlantedBug> ops = PlantedOpBugs.all().stream()
                .map(b -> new PlantedBug(b.toString(), engine -> BuggyEngine.withOps(engine, b.bug())));
        Stream<PlantedBug> others = Stream.of(
                new PlantedBug("Network.evaluate that reports loss 0 and every prediction correct",
                        engine -> BuggyEngine.withEvaluation(engine, (network, batch) -> {
                            Evaluation right = network.evaluate(batch);
                            return new Evaluation(0, right.count(), right.count());
                        })),
                new PlantedBug("Network.evaluate that counts every prediction correct (its loss right)",
                        engine -> BuggyEngine.withEvaluation(engine, (network, batch) -> {
                            Evaluation right = network.evaluate(batch);
                            return new Evaluation(right.loss(), right.count(), right.count());
                        })),
                new PlantedBug("Network.evaluate on the wrong batch (labels rotated by one class)",
                        engine -> BuggyEngine.withEvaluation(engine,
                                (network, batch) -> network.evaluate(rotateLabels(batch, network.model().classes())))),
                new PlantedBug("Network.evaluate in training mode (BatchNorm normalises with the batch's statistics)",
                        engine -> BuggyEngine.withEvaluation(engine, (network, batch) -> {
                            Evaluation right = network.evaluate(batch);
                            return new Evaluation(Probes.gradients(network, batch).loss(), right.correct(),
                                    right.count());
                        })),
                new PlantedBug("exact Hessian-vector products declared, central differences of gradients returned",
                        engine -> BuggyEngine.withExactProducts(engine, (network, batch, v) -> {
                            try (io.github.agnosticsam.diagnostics.Curvature c = io.github.agnosticsam.diagnostics.Curvature
                                    .of(network, List.of(batch), io.github.agnosticsam.diagnostics.CurvatureOptions
                                            .defaults().withExactProducts(false))) {
                                return c.hessianVectorProduct(v);
                            }
                        })),
                new PlantedBug("an oracle that reads the train batch for the validation passes",
                        engine -> BuggyEngine.withPasses(engine, p -> p.usesValidationBatch() ? Pass.TRAIN_PERTURBED : p)),
                new PlantedBug("running statistics moved by the perturbed train pass",
                        engine -> BuggyEngine.withPasses(engine, p -> p == Pass.TRAIN_PERTURBED ? Pass.TRAIN : p)),
                new PlantedBug("the last pass on the validation batch",
                        engine -> BuggyEngine.withPasses(engine,
                                p -> p == Pass.TRAIN_PERTURBED ? Pass.VALIDATION_PERTURBED : p)),
                new PlantedBug("a perturbed pass that writes θ in place (the update lands at the perturbed point)",
                        engine -> BuggyEngine.withPrograms(engine, UpdateAtThePerturbedPoint::new)),
                new PlantedBug("optimizer state stored without the guard",
                        engine -> BuggyEngine.withPrograms(engine, UnguardedState::new)),
                new PlantedBug("running statistics committed whatever the step's verdict (applied always 1)",
                        engine -> BuggyEngine.withPrograms(engine, AlwaysApplied::new)),
                new PlantedBug("CompiledStep.setState that ignores its values",
                        engine -> BuggyEngine.withSetState(engine, (step, values) -> { })),
                new PlantedBug("CompiledStep.setState that leaves the last slot as it was",
                        engine -> BuggyEngine.withSetState(engine, (step, values) -> {
                            List<HostTensor> current = step.state();
                            List<HostTensor> kept = new ArrayList<>(values);
                            if (!kept.isEmpty() && kept.size() == current.size()) {
                                kept.set(kept.size() - 1, current.get(kept.size() - 1));
                            }
                            step.setState(kept);
                        })),
                new PlantedBug("CompiledStep.setState that stores the tensors before the one it refuses",
                        engine -> BuggyEngine.withSetState(engine, (step, values) -> {
                            try {
                                step.setState(values);
                            } catch (IllegalArgumentException e) {
                                step.setState(goodPrefix(values, step.state()));
                                throw e;
                            }
                        })),
                new PlantedBug("Network.setRunningStatistics that ignores its values",
                        engine -> BuggyEngine.withSetRunningStatistics(engine, (network, values) -> { })),
                new PlantedBug("a float64 engine's setState that refuses what float32 cannot hold",
                        engine -> BuggyEngine.withSetState(engine, (step, values) -> {
                            for (HostTensor t : values) {
                                for (double v : t.values()) {
                                    if (Math.abs(v) > Float.MAX_VALUE) {
                                        throw new IllegalArgumentException("beyond float32: " + v);
                                    }
                                }
                            }
                            step.setState(values);
                        })),
                new PlantedBug("a float64 engine's setParameters that refuses what float32 cannot hold",
                        engine -> BuggyEngine.withSetParameters(engine, (network, values) -> {
                            for (HostTensor t : values) {
                                for (double v : t.values()) {
                                    if (Math.abs(v) > Float.MAX_VALUE) {
                                        throw new IllegalArgumentException("beyond float32: " + v);
                                    }
                                }
                            }
                            network.setParameters(values);
                        })),
                new PlantedBug("replicas that each step alone (the group ignored, nothing reduced)",
                        engine -> BuggyEngine.withReplicas(engine, (network, program, group) -> network.compile(program))),
                new PlantedBug("plain large-batch SAM (the ascent from the gradient averaged over the replicas)",
                        engine -> BuggyEngine.withOracle(engine, AVERAGED_ASCENT)),
                new PlantedBug("replicas that each keep their own verdict (one replica's bad value not shared)",
                        engine -> BuggyEngine.withOracle(engine, OWN_VERDICT)),
                new PlantedBug("running statistics not reduced (each replica keeps its own shard's)",
                        engine -> BuggyEngine.withReplicas(engine, (network, program, group) -> network.compile(
                                program, new OwnStatistics(group, network.model())))),
                new PlantedBug("replicas that draw the same validation batch (replica 0's shard)",
                        engine -> BuggyEngine.withReplicas(engine, SameValidation::compile)));
        return Stream.concat(ops, others);
    }

    @BeforeAll
    static void runTheKitOnThePlainEngine() {
        plain = KitRun.of(UnaryOperator.identity());
    }

    @Test
    void thePlainReferenceEnginePassesTheWholeKit() {
        assertThat(plain.passed()).as("kit tests the plain reference engine passed").hasSizeGreaterThan(100);
        assertThat(plain.failures()).as("kit tests the plain reference engine fails").isEmpty();
    }

    @Test
    void theWrapperWithoutABugChangesNoOutcome() {
        KitRun wrapped = KitRun.of(engine -> BuggyEngine.withPrograms(engine, ForwardingProgram::new));
        assertThat(wrapped.failures().keySet()).as("kit tests failed by the engine wrapped with no bug")
                .containsExactlyInAnyOrderElementsOf(plain.failures().keySet());
        assertThat(wrapped.passed()).as("kit tests passed by the engine wrapped with no bug")
                .containsExactlyInAnyOrderElementsOf(plain.passed());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("plantedBugs")
    void everyPlantedBugFailsTheKit(PlantedBug bug) {
        KitRun run = KitRun.of(bug.plant());
        Set<String> caught = new TreeSet<>(run.failures().keySet());
        caught.removeAll(plain.failures().keySet());
        CAUGHT.put(bug.name(), caught);
        assertThat(caught).as("kit tests failed by the reference engine with %s (beyond those the plain engine "
                + "fails: %s)", bug, plain.failures().keySet()).isNotEmpty();
    }

    /** Bugs of flat storage, planted in the reference engine with flat storage. */
    static Stream<PlantedBug> flatStorageBugs() {
        return Stream.of(
                segmentsBug("that calls every segment finite", (real, flat, lengths) -> {
                    double[] ones = new double[lengths.length];
                    java.util.Arrays.fill(ones, 1);
                    return HostTensor.of(ones, ones.length);
                }),
                segmentsBug("with one flag for the whole vector", (real, flat, lengths) -> {
                    double[] same = new double[lengths.length];
                    java.util.Arrays.fill(same, real.allFinite(flat).values()[0]);
                    return HostTensor.of(same, same.length);
                }),
                segmentsBug("one segment late (each flag names the next parameter)", (real, flat, lengths) -> {
                    int[] late = new int[lengths.length];
                    System.arraycopy(lengths, 0, late, 1, lengths.length - 1);
                    late[lengths.length - 1] += lengths[lengths.length - 1];
                    return real.allFiniteSegments(flat, late);
                }));
    }

    /** What a wrong allFiniteSegments returns, from the right algebra. */
    interface SegmentsBug {
        HostTensor flags(Tensors<HostTensor> real, HostTensor flat, int[] lengths);
    }

    private static PlantedBug segmentsBug(String what, SegmentsBug bug) {
        return new PlantedBug("allFiniteSegments " + what, engine -> BuggyEngine.withOps(engine,
                PlantedOpBugs.onReference(real -> new BuggyEngine.ForwardingTensors<>(real) {
                    @Override
                    public HostTensor allFiniteSegments(HostTensor flat, int[] lengths) {
                        return bug.flags(real, flat, lengths);
                    }
                })));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("flatStorageBugs")
    void everyFlatStorageBugFailsTheKit(PlantedBug bug) {
        PlantedBugKit.flat = true;
        try {
            KitRun plainFlat = KitRun.of(UnaryOperator.identity());
            assertThat(plainFlat.failures()).as("kit tests the plain reference engine with flat storage fails").isEmpty();
            KitRun run = KitRun.of(bug.plant());
            Set<String> caught = new TreeSet<>(run.failures().keySet());
            CAUGHT.put(bug.name() + " (flat storage)", caught);
            assertThat(caught).as("kit tests failed by the flat reference engine with %s", bug).isNotEmpty();
        } finally {
            PlantedBugKit.flat = false;
        }
    }

    @AfterAll
    static void printWhatCaughtEachBug() {
        StringBuilder out = new StringBuilder("What the kit catches (kit tests failed by each planted bug):\n");
        CAUGHT.forEach((bug, tests) -> out.append("- ").append(bug).append(": ").append(grouped(tests)).append('\n'));
        System.out.print(out);
    }

    /** "someTest, tensorOperations (3: a; b; c)": dynamic tests grouped under their factory. */
    private static String grouped(Set<String> tests) {
        if (tests.isEmpty()) {
            return "NOTHING";
        }
        Map<String, List<String>> byMethod = new TreeMap<>();
        for (String test : tests) {
            int colon = test.indexOf(": ");
            byMethod.computeIfAbsent(colon < 0 ? test : test.substring(0, colon), k -> new ArrayList<>())
                    .add(colon < 0 ? "" : test.substring(colon + 2));
        }
        return byMethod.entrySet().stream().map(e -> {
            List<String> dynamic = e.getValue().stream().filter(s -> !s.isEmpty()).toList();
            return dynamic.isEmpty() ? e.getKey()
                    : e.getKey() + " (" + dynamic.size() + ": " + String.join("; ", dynamic) + ")";
        }).collect(Collectors.joining(", "));
    }

    /** {@code current} with the leading tensors of {@code values} that are finite and of the right shape. */
    private static List<HostTensor> goodPrefix(List<HostTensor> values, List<HostTensor> current) {
        List<HostTensor> out = new ArrayList<>(current);
        for (int i = 0; i < Math.min(values.size(), current.size()); i++) {
            HostTensor v = values.get(i);
            if (v == null || !java.util.Arrays.equals(v.shape(), current.get(i).shape())
                    || !java.util.Arrays.stream(v.values()).allMatch(Double::isFinite)) {
                break;
            }
            out.set(i, v);
        }
        return out;
    }

    private static Batch rotateLabels(Batch batch, int classes) {
        int[] labels = batch.labels().clone();
        for (int i = 0; i < labels.length; i++) {
            labels[i] = (labels[i] + 1) % classes;
        }
        return new Batch(batch.features(), labels);
    }

    /** The clean pass's gradient averaged over the replicas before the ascent: SAM on the whole batch. */
    private static final BuggyEngine.OracleBug AVERAGED_ASCENT = new BuggyEngine.OracleBug() {
        @Override
        public <T> GradientOracle<T> plant(Tensors<T> ops, GradientOracle<T> oracle) {
            return new BuggyEngine.ForwardingOracle<>(oracle) {
                @Override
                public LossAndGradients<T> evaluate(List<T> values, Pass pass) {
                    LossAndGradients<T> r = real.evaluate(values, pass);
                    if (pass != Pass.TRAIN || real.replicas() == 1) {
                        return r;
                    }
                    List<T> mean = new ArrayList<>();
                    for (T g : real.allReduceSum(r.gradients())) {
                        mean.add(ops.div(g, ops.scalar(real.replicas())));
                    }
                    return new LossAndGradients<>(r.loss(), mean);
                }
            };
        }
    };

    /** The reduced verdicts replaced by this replica's own, as if every replica had said the same. */
    private static final BuggyEngine.OracleBug OWN_VERDICT = new BuggyEngine.OracleBug() {
        @Override
        public <T> GradientOracle<T> plant(Tensors<T> ops, GradientOracle<T> oracle) {
            return new BuggyEngine.ForwardingOracle<>(oracle) {
                @Override
                public List<T> allReduceSum(List<T> tensors) {
                    List<T> sums = new ArrayList<>(real.allReduceSum(tensors));
                    T mine = ops.sumOfSquares(tensors.get(2)); // the core's payload: losses, flags, verdicts, ...
                    sums.set(2, ops.concat(java.util.Collections.nCopies(real.replicas(), mine)));
                    return sums;
                }
            };
        }
    };

    /** A group whose sums leave the tail — the running statistics — as this replica had it (times N). */
    private static final class OwnStatistics implements io.github.agnosticsam.spi.Collective {
        private final io.github.agnosticsam.spi.Collective real;
        private final int statistics;

        OwnStatistics(io.github.agnosticsam.spi.Collective real, io.github.agnosticsam.model.ModelSpec model) {
            this.real = real;
            this.statistics = model.statisticShapes().stream().mapToInt(s -> (int) HostTensor.size(s)).sum();
        }

        @Override
        public int rank() {
            return real.rank();
        }

        @Override
        public int size() {
            return real.size();
        }

        @Override
        public void allReduceSum(float[] buffer) {
            float[] own = buffer.clone();
            real.allReduceSum(buffer);
            for (int i = buffer.length - statistics; i < buffer.length; i++) {
                buffer[i] = own[i] * size();
            }
        }

        @Override
        public void allReduceSum(double[] buffer) {
            double[] own = buffer.clone();
            real.allReduceSum(buffer);
            for (int i = buffer.length - statistics; i < buffer.length; i++) {
                buffer[i] = own[i] * size();
            }
        }

        @Override
        public void close() {
            real.close();
        }
    }

    /** Every replica steps with replica 0's validation shard, handed round through the group first. */
    private static final class SameValidation {
        static io.github.agnosticsam.spi.CompiledStep compile(io.github.agnosticsam.spi.Network network,
                StepProgram program, io.github.agnosticsam.spi.Collective group) {
            io.github.agnosticsam.spi.CompiledStep real = network.compile(program, group);
            return new io.github.agnosticsam.spi.CompiledStep() {
                @Override
                public io.github.agnosticsam.spi.StepSummary run(Batch train, Batch validation, double[] scalars) {
                    return real.run(train, validation == null ? null : fromReplica0(validation), scalars);
                }

                private Batch fromReplica0(Batch mine) {
                    double[] x = mine.features().values();
                    double[] shared = new double[x.length + mine.size()];
                    if (group.rank() == 0) {
                        System.arraycopy(x, 0, shared, 0, x.length);
                        for (int i = 0; i < mine.size(); i++) {
                            shared[x.length + i] = mine.labels()[i];
                        }
                    }
                    group.allReduceSum(shared);
                    int[] labels = new int[mine.size()];
                    for (int i = 0; i < labels.length; i++) {
                        labels[i] = (int) shared[x.length + i];
                    }
                    return new Batch(new HostTensor(mine.features().shape(),
                            java.util.Arrays.copyOf(shared, x.length)), labels);
                }

                @Override
                public List<HostTensor> state() {
                    return real.state();
                }

                @Override
                public void setState(List<HostTensor> values) {
                    real.setState(values);
                }

                @Override
                public void close() {
                    real.close();
                }
            };
        }
    }

    /**
     * A perturbed pass that writes the perturbed point into θ, emulated: the new parameters are the
     * program's plus (the last perturbed point the oracle was asked about − θ).
     */
    private static final class UpdateAtThePerturbedPoint extends ForwardingProgram {
        UpdateAtThePerturbedPoint(StepProgram real) {
            super(real);
        }

        @Override
        public <T> StepOutput<T> define(Tensors<T> ops, GradientOracle<T> oracle, List<T> parameters, List<T> state,
                List<T> scalars) {
            List<List<T>> lastPerturbed = new ArrayList<>(1);
            GradientOracle<T> recording = (values, pass) -> {
                if (pass.isPerturbed()) {
                    lastPerturbed.clear();
                    lastPerturbed.add(values);
                }
                return oracle.evaluate(values, pass);
            };
            StepOutput<T> out = real.define(ops, recording, parameters, state, scalars);
            if (lastPerturbed.isEmpty()) {
                return out;
            }
            List<T> shifted = new ArrayList<>();
            for (int i = 0; i < parameters.size(); i++) {
                T trace = ops.sub(lastPerturbed.get(0).get(i), parameters.get(i));
                shifted.add(ops.add(out.parameters().get(i), trace));
            }
            return new StepOutput<>(shifted, out.state(), out.summary(), out.applied());
        }
    }

    /**
     * Optimizer state stored without the guard, emulated: where the step is not applied, the state
     * becomes what an update with a non-finite gradient makes of it (state·NaN).
     */
    private static final class UnguardedState extends ForwardingProgram {
        UnguardedState(StepProgram real) {
            super(real);
        }

        @Override
        public <T> StepOutput<T> define(Tensors<T> ops, GradientOracle<T> oracle, List<T> parameters, List<T> state,
                List<T> scalars) {
            StepOutput<T> out = real.define(ops, oracle, parameters, state, scalars);
            List<T> unguarded = new ArrayList<>();
            for (T s : out.state()) {
                unguarded.add(ops.where(out.applied(), s, ops.mul(s, ops.scalar(Double.NaN))));
            }
            return new StepOutput<>(out.parameters(), unguarded, out.summary(), out.applied());
        }
    }

    /** Tells the engine every step was applied, so it commits the clean pass's statistics even on a skipped step. */
    private static final class AlwaysApplied extends ForwardingProgram {
        AlwaysApplied(StepProgram real) {
            super(real);
        }

        @Override
        public <T> StepOutput<T> define(Tensors<T> ops, GradientOracle<T> oracle, List<T> parameters, List<T> state,
                List<T> scalars) {
            StepOutput<T> out = real.define(ops, oracle, parameters, state, scalars);
            return new StepOutput<>(out.parameters(), out.state(), out.summary(), ops.scalar(1));
        }
    }

    /** The outcome of one launch of the kit: tests passed, and the failed ones with the first line of why. */
    private record KitRun(Set<String> passed, Map<String, String> failures) {

        static KitRun of(UnaryOperator<Engine> plant) {
            Recorder recorder = new Recorder();
            PlantedBugKit.plant = plant;
            try {
                LauncherFactory.create().execute(
                        LauncherDiscoveryRequestBuilder.request().selectors(selectClass(PlantedBugKit.class)).build(),
                        recorder);
            } finally {
                PlantedBugKit.plant = UnaryOperator.identity();
            }
            return new KitRun(recorder.passed, recorder.failures);
        }
    }

    /** Records outcomes by kit test name: the method, or "factory: display name" for a dynamic test. */
    private static final class Recorder implements TestExecutionListener {
        private final Set<String> passed = new TreeSet<>();
        private final Map<String, String> failures = new TreeMap<>();
        private TestPlan plan;

        @Override
        public void testPlanExecutionStarted(TestPlan testPlan) {
            plan = testPlan;
        }

        @Override
        public void executionFinished(TestIdentifier test, TestExecutionResult result) {
            if (result.getStatus() == TestExecutionResult.Status.FAILED) {
                String why = result.getThrowable().map(t -> String.valueOf(t.getMessage()).strip().lines()
                        .findFirst().orElse(t.getClass().getName())).orElse("");
                failures.put(name(test), why);
            } else if (result.getStatus() == TestExecutionResult.Status.SUCCESSFUL && test.isTest()) {
                passed.add(name(test));
            }
        }

        private String name(TestIdentifier test) {
            TestIdentifier parent = plan.getParent(test).orElse(null);
            if (parent != null && isMethod(parent)) {
                return name(parent) + ": " + test.getDisplayName(); // a dynamic test, under its factory
            }
            if (test.getSource().orElse(null) instanceof org.junit.platform.engine.support.descriptor.MethodSource m) {
                return m.getMethodName();
            }
            return test.getDisplayName() + " (the class, before or after its tests)";
        }

        private static boolean isMethod(TestIdentifier test) {
            return test.getSource().orElse(null) instanceof org.junit.platform.engine.support.descriptor.MethodSource;
        }
    }
}
