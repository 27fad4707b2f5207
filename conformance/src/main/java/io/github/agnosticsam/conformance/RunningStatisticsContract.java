package io.github.agnosticsam.conformance;

import static io.github.agnosticsam.conformance.Kit.BN_MODEL;
import static io.github.agnosticsam.conformance.Kit.poison;
import static io.github.agnosticsam.conformance.Kit.sgd;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.AgnosticSam;
import io.github.agnosticsam.optim.Optimizer;
import io.github.agnosticsam.optim.Sam;
import io.github.agnosticsam.optim.Sgd;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.training.BadValuePolicy;
import io.github.agnosticsam.training.StepPrograms;
import io.github.agnosticsam.training.Training;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Running statistics (the BatchNorm MLP; aborted when the engine does not build it): only the
 * clean train pass moves them, as the reference engine's BatchNorm does; evaluation uses them and
 * leaves them; without an applied flag only finite ones are committed.
 */
public interface RunningStatisticsContract extends EngineContract {

    @Test
    default void onlyTheCleanTrainPassMovesTheRunningStatistics() {
        // Every step runs the same clean pass on the train batch at θ first, so from the same θ and
        // statistics the running statistics after a step of SAM or Agnostic-SAM are those after a
        // step of the base optimizer, whose only pass that is.
        ModelSpec model = kit().statisticsModel();
        Assumptions.assumeTrue(model == BN_MODEL, "engine does not build " + BN_MODEL);
        Data data = new Data(27);
        List<HostTensor> init = BN_MODEL.initialParameters(27);
        List<HostTensor> base;
        try (Network net = kit().build(BN_MODEL, init); Training t = Training.start(net, sgd(0.1))) {
            t.step(data.train(0));
            base = net.runningStatistics();
        }
        assertThat(base).as("running statistics after one step of SGD: the clean train pass must move them")
                .isNotEqualTo(BN_MODEL.initialStatistics());
        List<Optimizer> optimizers = List.of(Sam.builder().base(sgd(0.1)).rho(0.5).build(),
                AgnosticSam.builder().base(sgd(0.1)).rho1(0.5).rho2(0.2).build(),
                AgnosticSam.builder().base(sgd(0.1)).rho1(0.5).rho2(0.2).variant(AgnosticSam.Variant.FAST).build());
        for (Optimizer optimizer : optimizers) {
            try (Network net = kit().build(BN_MODEL, init); Training t = Training.start(net, optimizer)) {
                if (t.program().usesValidationBatch()) {
                    t.step(data.train(0), data.validation(0));
                } else {
                    t.step(data.train(0));
                }
                List<HostTensor> statistics = net.runningStatistics();
                for (int i = 0; i < base.size(); i++) {
                    double[] expected = base.get(i).values();
                    double[] actual = statistics.get(i).values();
                    for (int j = 0; j < expected.length; j++) {
                        double allowance = 100 * kit().relativeRounding() * Math.max(1, Math.abs(expected[j]));
                        assertThat(actual[j]).as("running statistic %s element %d after one step of %s: it must be "
                                + "what the clean train pass (Pass.TRAIN) left, as after one step of the base "
                                + "optimizer (suspect a perturbed or validation pass that moves running statistics: "
                                + "the oracle must honour Pass.updatesRunningStatistics())",
                                BN_MODEL.statisticNames().get(i), j, optimizer)
                                .isCloseTo(expected[j], within(allowance));
                    }
                }
            }
        }
    }

    @Test
    default void oneCleanStepMovesTheRunningStatisticsAsTheReferenceEngine() {
        Data data = new Data(28);
        try (Network net = kit().build(BN_MODEL, BN_MODEL.initialParameters(28)); Network ref = kit().referenceOf(net);
                Training t = Training.start(net, sgd(0)); Training r = Training.start(ref, sgd(0))) {
            List<HostTensor> params = net.parameters();
            t.step(data.train(0));
            r.step(data.train(0));
            assertThat(net.parameters()).as("parameters after a step with lr 0").isEqualTo(params);
            assertStatisticsAgree("after one step: momentum 0.1, the batch's mean and unbiased variance of each "
                    + "BatchNorm layer's input (suspect the engine's BatchNorm in training mode: momentum, the "
                    + "variance's correction, the order of the statistics)", net, ref);
        }
    }

    @Test
    default void evaluationUsesTheRunningStatisticsAndLeavesThem() {
        // lr 0: the parameters stay as built, so that the reference engine's statistics follow the
        // engine's step by step; the perturbed and validation passes must not move them.
        Data data = new Data(29);
        Optimizer statisticsOnly = AgnosticSam.builder().base(Sgd.builder().lr(0).momentum(0.9).build())
                .rho1(0.1).rho2(0.05).build();
        Batch test = data.train(3);
        try (Network net = kit().build(BN_MODEL, BN_MODEL.initialParameters(29)); Network ref = kit().referenceOf(net);
                Training t = Training.start(net, statisticsOnly); Training r = Training.start(ref, statisticsOnly)) {
            for (int s = 0; s < 3; s++) {
                t.step(data.train(s), data.validation(s));
                r.step(data.train(s), data.validation(s));
            }
            assertStatisticsAgree("after three steps of Agnostic-SAM", net, ref);
            double expected = ref.evaluate(test).loss();
            double batchStatistics = Probes.gradients(ref, test).loss(); // training mode
            assertThat(Math.abs(expected - batchStatistics)).as("the kit's own check: on this batch, the loss with the "
                    + "running statistics differs from the loss with the batch's statistics").isGreaterThan(1e-3);
            List<HostTensor> params = net.parameters();
            List<HostTensor> statistics = net.runningStatistics();
            kit().assertLossAgrees("evaluate() on the BatchNorm MLP against the reference engine's: evaluation mode "
                    + "normalises with the running statistics, not the batch's (suspect Network.evaluate's BatchNorm "
                    + "mode)", net.evaluate(test).loss(), expected);
            assertThat(net.runningStatistics()).as("running statistics after evaluate(): bit-identical (suspect "
                    + "Network.evaluate running BatchNorm in training mode)").isEqualTo(statistics);
            assertThat(net.parameters()).as("parameters after evaluate(): bit-identical").isEqualTo(params);
        }
    }

    @Test
    default void onlyFiniteStatisticsAreCommittedEvenWhenTheStepSaysApplied() {
        // The engine's half of the rule: a program that says every step was applied still gets the
        // clean pass's running statistics committed only where they are finite.
        Data data = new Data(30);
        StepProgram applied = Probes.sayingApplied(StepPrograms.of(sgd(0.1)));
        try (Network net = kit().build(BN_MODEL, BN_MODEL.initialParameters(30));
                Training t = Training.start(net, applied, BadValuePolicy.SKIP)) {
            t.step(data.train(0));
            List<HostTensor> statistics = net.runningStatistics();
            t.step(poison(data.train(1), Double.NaN));
            assertThat(net.runningStatistics()).as("running statistics after a step with NaN in the train batch "
                    + "whose StepOutput.applied() is 1: bit-identical (suspect the engine's commit of statistics: "
                    + "only where the step was applied and they are finite)").isEqualTo(statistics);
            t.step(data.train(2));
            assertThat(net.runningStatistics()).as("running statistics after the next, clean step of that program: "
                    + "moved (suspect the commit of statistics)").isNotEqualTo(statistics);
        }
    }

    private void assertStatisticsAgree(String what, Network net, Network ref) {
        List<HostTensor> actual = net.runningStatistics();
        List<HostTensor> expected = ref.runningStatistics();
        List<String> names = net.model().statisticNames();
        assertThat(actual).as("running statistics %s: one tensor each of %s", what, names).hasSize(names.size());
        for (int k = 0; k < expected.size(); k++) {
            double[] e = expected.get(k).values();
            for (int i = 0; i < e.length; i++) {
                assertThat(actual.get(k).values()[i]).as("running statistic %s element %d %s, against the reference "
                        + "engine's", names.get(k), i, what)
                        .isCloseTo(e[i], within(10 * kit().relativeRounding() * Math.max(1, Math.abs(e[i]))));
            }
        }
    }
}
