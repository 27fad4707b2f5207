package io.github.agnosticsam.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.agnosticsam.Engines;
import io.github.agnosticsam.model.Activation;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.Evaluation;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.AgnosticSam;
import io.github.agnosticsam.optim.Sam;
import io.github.agnosticsam.optim.Schedule;
import io.github.agnosticsam.optim.Sgd;
import io.github.agnosticsam.spi.CompiledStep;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.spi.StepSummary;
import io.github.agnosticsam.spi.SummaryLayout;
import io.github.agnosticsam.training.StepPrograms;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The runner on the reference engine and on a scripted engine with running statistics. */
class CaseRunnerTest {
    private static Engine reference;

    @BeforeAll
    static void start() {
        reference = Engines.load("reference", EngineOptions.DEFAULT);
    }

    @AfterAll
    static void stop() {
        reference.close();
    }

    @Test
    void everyShippedCasePassesOnTheReferenceEngineOrIsSkippedForAModelItCannotBuild() {
        int passed = 0;
        for (String name : GoldenCases.names()) {
            ConformanceCase c = GoldenCases.load(name);
            CaseResult r = CaseRunner.run(reference, c);
            System.out.println(r.line());
            boolean plainMlp = c.model() instanceof ModelSpec.Mlp m && !m.batchNorm();
            if (plainMlp) {
                assertThat(r.outcome()).as(r.line()).isEqualTo(CaseResult.Outcome.PASS);
                assertThat(r.worstRatio()).as(r.line()).isLessThan(1e-3);
                passed++;
            } else {
                // BatchNorm and CNN cases: the reference engine may not build them yet, but never fails them.
                assertThat(r.outcome()).as(r.line()).isNotEqualTo(CaseResult.Outcome.FAIL);
            }
        }
        assertThat(passed).isEqualTo(58);
    }

    /** The float64 reference against the float64 PyTorch generator: every replica case to 1e-10 (5e-5 of 2e-6). */
    @Test
    void theReplicaCasesMatchTheIndependentReferenceTo1e10() {
        List<String> replicaCases = GoldenCases.names().stream().filter(n -> GoldenCases.load(n).replicas() > 1)
                .toList();
        assertThat(replicaCases).hasSize(11);
        for (String name : replicaCases) {
            CaseResult r = CaseRunner.run(reference, GoldenCases.load(name));
            assertThat(r.outcome()).as(r.line()).isEqualTo(CaseResult.Outcome.PASS);
            assertThat(r.worstRatio()).as(r.line()).isLessThan(5e-5);
        }
    }

    /**
     * Plain large-batch SAM — the ascent from the gradient averaged over the replicas, which with
     * equal shards is the whole batch's — is what a replica case run as one replica computes: it
     * fails every one of them by far (m-sharpness changes the run).
     */
    @Test
    void largeBatchSamFailsEveryReplicaCase() {
        for (String name : GoldenCases.names()) {
            ConformanceCase c = GoldenCases.load(name);
            if (c.replicas() > 1) {
                ConformanceCase alone = new ConformanceCase(c.name(), c.model(), c.initialParams(),
                        c.initialStatistics(), c.optimizer(), c.steps(), c.expected(), c.evaluation(), c.tolerance());
                CaseResult r = CaseRunner.run(reference, alone);
                assertThat(r.outcome()).as(r.line()).isEqualTo(CaseResult.Outcome.FAIL);
                assertThat(r.worstRatio()).as(r.line()).isGreaterThan(100);
            }
        }
    }

    // The version-2 cases can fail: the per-step values and the evaluation matter.

    @Test
    void ignoringAPerStepScheduleFails() {
        ConformanceCase lr = GoldenCases.load("sgd-lr-schedule-relu");
        Sgd sgd = (Sgd) lr.optimizer();
        assertFailsBadly(lr, new Sgd(Schedule.constant(sgd.lr().at(0)), sgd.momentum(), sgd.weightDecay(),
                sgd.nesterov()));

        ConformanceCase rho = GoldenCases.load("sam-rho-schedule-tanh");
        Sam sam = (Sam) rho.optimizer();
        assertFailsBadly(rho, new Sam(sam.base(), Schedule.constant(sam.rho().at(0)), sam.adaptive(), sam.eta()));

        ConformanceCase radii = GoldenCases.load("agnostic-sam-rho-schedule-relu");
        AgnosticSam a = (AgnosticSam) radii.optimizer();
        assertFailsBadly(radii, new AgnosticSam(a.base(), Schedule.constant(a.rho1().at(0)), a.rho2(), a.variant(),
                a.adaptive(), a.eta()));
        assertFailsBadly(radii, new AgnosticSam(a.base(), a.rho1(), Schedule.constant(a.rho2().at(0)), a.variant(),
                a.adaptive(), a.eta()));
    }

    @Test
    void theRadiiOfRho2LargerThanRho1AreNotSwapped() {
        ConformanceCase c = GoldenCases.load("agnostic-sam-rho2-larger-tanh");
        AgnosticSam a = (AgnosticSam) c.optimizer();
        assertFailsBadly(c, new AgnosticSam(a.base(), a.rho2(), a.rho1(), a.variant(), a.adaptive(), a.eta()));
    }

    private static void assertFailsBadly(ConformanceCase c, io.github.agnosticsam.optim.Optimizer wrong) {
        CaseResult r = CaseRunner.run(reference, c, StepPrograms.of(wrong));
        assertThat(r.outcome()).as(r.line()).isEqualTo(CaseResult.Outcome.FAIL);
        assertThat(r.worstRatio()).as(r.line()).isGreaterThan(100);
    }

    @Test
    void theEvaluationAfterTheLastStepIsChecked() {
        ConformanceCase c = GoldenCases.load("sgd-plain-tanh");
        ConformanceCase.FinalEvaluation e = c.evaluation().orElseThrow();
        assertThat(CaseRunner.run(reference, c).outcome()).isEqualTo(CaseResult.Outcome.PASS);

        CaseResult loss = CaseRunner.run(reference, withEvaluation(c, new ConformanceCase.FinalEvaluation(e.batch(),
                e.loss() * (1 + 1e-4), e.correct())));
        assertThat(loss.outcome()).isEqualTo(CaseResult.Outcome.FAIL);
        assertThat(loss.detail()).startsWith("evaluate: loss: expected ");

        int other = e.correct() == 0 ? 1 : e.correct() - 1;
        CaseResult correct = CaseRunner.run(reference, withEvaluation(c, new ConformanceCase.FinalEvaluation(e.batch(),
                e.loss(), other)));
        assertThat(correct.outcome()).isEqualTo(CaseResult.Outcome.FAIL);
        assertThat(correct.detail()).isEqualTo("evaluate: expected " + other + " correct of 32, got " + e.correct());
    }

    @Test
    void theEvaluationLossIncludesLabelSmoothing() {
        ConformanceCase c = GoldenCases.load("sgd-plain-relu");
        ModelSpec.Mlp m = (ModelSpec.Mlp) c.model();
        assertThat(m.labelSmoothing()).isEqualTo(0.1);
        List<HostTensor> last = c.expected().get(c.expected().size() - 1).params();
        ConformanceCase.FinalEvaluation e = c.evaluation().orElseThrow();
        try (Network smoothed = reference.build(m, last);
                Network unsmoothed = reference.build(new ModelSpec.Mlp(m.layers(), m.activation(), 0), last)) {
            assertThat(c.tolerance().ratio(smoothed.evaluate(e.batch()).loss(), e.loss())).isLessThan(1e-3);
            assertThat(c.tolerance().ratio(unsmoothed.evaluate(e.batch()).loss(), e.loss())).isGreaterThan(10);
        }
    }

    private static ConformanceCase withEvaluation(ConformanceCase c, ConformanceCase.FinalEvaluation e) {
        return new ConformanceCase(c.name(), c.model(), c.initialParams(), c.initialStatistics(), c.optimizer(),
                c.steps(), c.expected(), Optional.of(e), c.tolerance());
    }

    // Running statistics, on a scripted engine.

    /** mlp 2-3-2 with BatchNorm: W0 [3, 2], gamma0, beta0 [3], W1 [2, 3], b1 [2]; mean0, var0 [3]. */
    private static final ModelSpec.Mlp BN = new ModelSpec.Mlp(new int[] {2, 3, 2}, Activation.TANH, 0, true);
    private static final Batch BATCH = new Batch(HostTensor.of(new double[] {1, 2, 3, 4}, 2, 2), new int[] {0, 1});

    /** The statistics the scripted network reports after {@code steps} steps: every value + 0.5 a step. */
    private static List<HostTensor> statisticsAfter(int steps) {
        List<HostTensor> out = new ArrayList<>();
        for (HostTensor t : BN.initialStatistics()) {
            double[] v = t.values().clone();
            Arrays.setAll(v, i -> v[i] + 0.5 * steps);
            out.add(new HostTensor(t.shape(), v));
        }
        return out;
    }

    /** Three steps that the scripted engine passes: loss 0.75, parameters unchanged, evaluation 0.25 and 1. */
    private static ConformanceCase scripted(List<HostTensor> initialStatistics, double changedStatistic) {
        List<HostTensor> params = BN.initialParameters(3);
        List<ConformanceCase.Step> steps = new ArrayList<>();
        List<ConformanceCase.Expected> expected = new ArrayList<>();
        for (int s = 0; s < 3; s++) {
            steps.add(new ConformanceCase.Step(BATCH, null));
            List<HostTensor> stats = statisticsAfter(s + 1);
            if (s == 1) {
                stats.get(1).values()[2] += changedStatistic; // var0[2] after step 1
            }
            expected.add(new ConformanceCase.Expected(0.75, params, stats));
        }
        return new ConformanceCase("scripted", BN, params, initialStatistics, Sgd.builder().lr(0).build(), steps,
                expected, Optional.of(new ConformanceCase.FinalEvaluation(BATCH, 0.25, 1)),
                ConformanceCase.Tolerance.DEFAULT);
    }

    @Test
    void runningStatisticsAreComparedAfterEveryStep() {
        CaseResult pass = CaseRunner.run(new ScriptedEngine(true, 0), scripted(BN.initialStatistics(), 0));
        assertThat(pass.outcome()).as(pass.line()).isEqualTo(CaseResult.Outcome.PASS);
        assertThat(pass.worstRatio()).isZero();

        CaseResult fail = CaseRunner.run(new ScriptedEngine(true, 0), scripted(BN.initialStatistics(), 1e-3));
        assertThat(fail.outcome()).isEqualTo(CaseResult.Outcome.FAIL);
        assertThat(fail.detail()).isEqualTo("first at step 1, statistic var0[2]: expected 2.0010000000000000, "
                + "got 2.0000000000000000");
        assertThat(fail.worstRatio()).isGreaterThan(10);
    }

    @Test
    void statisticsThatDoNotStartAtTheirInitialValuesFail() {
        CaseResult r = CaseRunner.run(new ScriptedEngine(true, 0.5), scripted(BN.initialStatistics(), 0));
        assertThat(r.outcome()).isEqualTo(CaseResult.Outcome.FAIL);
        assertThat(r.detail()).startsWith("before step 0, statistic mean0[0]: expected 0.0");
    }

    @Test
    void aNetworkWithoutRunningStatisticsIsSkippedNotPassed() {
        CaseResult r = CaseRunner.run(new ScriptedEngine(false, 0), scripted(BN.initialStatistics(), 0));
        assertThat(r.outcome()).isEqualTo(CaseResult.Outcome.SKIP);
        assertThat(r.detail()).isEqualTo("scripted reports no running statistics for mlp 2-3-2 tanh batchnorm, which "
                + "has mean0, var0: it does not support them");
    }

    @Test
    void aCaseStartingFromOtherStatisticsIsSkipped() {
        CaseResult r = CaseRunner.run(new ScriptedEngine(true, 0), scripted(statisticsAfter(1), 0));
        assertThat(r.outcome()).isEqualTo(CaseResult.Outcome.SKIP);
        assertThat(r.detail()).contains("other than the defaults");
    }

    @Test
    void theEvaluationIsCheckedOnTheScriptedEngineToo() {
        ConformanceCase c = scripted(BN.initialStatistics(), 0);
        CaseResult r = CaseRunner.run(new ScriptedEngine(true, 0), withEvaluation(c,
                new ConformanceCase.FinalEvaluation(BATCH, 0.5, 1)));
        assertThat(r.detail()).isEqualTo("evaluate: loss: expected 0.50000000000000000, got 0.25000000000000000");
    }

    /**
     * Builds {@link ScriptedNetwork}s: parameters never change, every pass has loss 0.75, each step
     * adds 0.5 to every running statistic; {@code offset} is added to where they start.
     */
    private record ScriptedEngine(boolean statistics, double offset) implements Engine {
        @Override
        public String name() {
            return "scripted";
        }

        @Override
        public String device() {
            return "cpu";
        }

        @Override
        public Network build(ModelSpec model, List<HostTensor> initialParameters) {
            return new ScriptedNetwork(model, initialParameters, statistics, offset);
        }

        @Override
        public void close() {
        }
    }

    private static final class ScriptedNetwork implements Network {
        private final ModelSpec model;
        private final List<HostTensor> params;
        private final boolean statistics;
        private final double offset;
        private int steps;

        ScriptedNetwork(ModelSpec model, List<HostTensor> params, boolean statistics, double offset) {
            this.model = model;
            this.params = params;
            this.statistics = statistics;
            this.offset = offset;
        }

        @Override
        public ModelSpec model() {
            return model;
        }

        @Override
        public List<HostTensor> parameters() {
            return params;
        }

        @Override
        public void setParameters(List<HostTensor> values) {
            throw new UnsupportedOperationException();
        }

        @Override
        public List<HostTensor> runningStatistics() {
            if (!statistics) {
                return List.of();
            }
            List<HostTensor> out = statisticsAfter(steps);
            out.forEach(t -> Arrays.setAll(t.values(), i -> t.values()[i] + offset));
            return out;
        }

        @Override
        public String engineName() {
            return "scripted";
        }

        @Override
        public Evaluation evaluate(Batch batch) {
            return new Evaluation(0.25, 1, batch.size());
        }

        @Override
        public CompiledStep compile(StepProgram program) {
            int passes = program.passes().size();
            return new CompiledStep() {
                @Override
                public StepSummary run(Batch train, Batch validation, double[] scalars) {
                    steps++;
                    // [loss of each pass, then every flag 1: finite]
                    double[] summary = new double[SummaryLayout.of(program, model.parameterShapes()).size()];
                    Arrays.fill(summary, 1.0);
                    Arrays.fill(summary, 0, passes, 0.75);
                    return () -> summary;
                }

                @Override
                public List<HostTensor> state() {
                    return List.of();
                }

                @Override
                public void setState(List<HostTensor> values) {
                    throw new UnsupportedOperationException("scripted steps have no state to set");
                }

                @Override
                public void close() {
                }
            };
        }

        @Override
        public void close() {
        }
    }
}
