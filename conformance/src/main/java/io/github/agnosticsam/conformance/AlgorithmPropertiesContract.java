package io.github.agnosticsam.conformance;

import static io.github.agnosticsam.conformance.Kit.assertClose;
import static io.github.agnosticsam.conformance.Kit.sgd;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.agnosticsam.algorithm.Ascent;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.optim.Adam;
import io.github.agnosticsam.optim.AgnosticSam;
import io.github.agnosticsam.optim.Optimizer;
import io.github.agnosticsam.optim.Sam;
import io.github.agnosticsam.optim.Sgd;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.training.StepResult;
import io.github.agnosticsam.training.Training;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The five properties of docs/algorithm.md, each measured with the engine's own gradients
 * ({@code Probes}).
 */
public interface AlgorithmPropertiesContract extends EngineContract {

    // Property 1: ρ₂ = 0 gives exactly SAM with ρ = ρ₁, and leaves the validation passes out.
    @Test
    default void constantZeroRho2IsExactlySamWithoutValidationPasses() {
        AgnosticSam agnostic = AgnosticSam.builder().base(sgd(0.2)).rho1(0.4).rho2(0).build();
        Sam sam = Sam.builder().base(sgd(0.2)).rho(0.4).build();
        Data data = new Data(11);
        List<HostTensor> a = train(agnostic, data, 3, r -> assertThat(r.gradientEvaluations())
                .as("Agnostic-SAM with the constant rho2 = 0 takes SAM's 2 passes").isEqualTo(2));
        List<HostTensor> b = train(sam, data, 3, r -> { });
        assertThat(a).as("property 1: Agnostic-SAM with rho2 = 0 must give exactly SAM with rho = rho1 (the same "
                + "program; a difference means the engine's results depend on something other than the ops asked for)")
                .isEqualTo(b);
    }

    @Test
    default void scheduledRho2RunsTheValidationPassesEvenAtZero() {
        AgnosticSam scheduled = AgnosticSam.builder().base(sgd(0.2)).rho1(0.4).rho2(step -> 0.0).build();
        Sam sam = Sam.builder().base(sgd(0.2)).rho(0.4).build();
        Data data = new Data(12);
        List<HostTensor> a = train(scheduled, data, 3, r -> assertThat(r.gradientEvaluations())
                .as("a scheduled rho2 runs the validation passes").isEqualTo(4));
        List<HostTensor> b = train(sam, data, 3, r -> { });
        assertClose("property 1: a scheduled rho2 that is 0 gives SAM (suspect mul or div by a zero scalar, "
                + "the oracle's validation batch)", a, b, 1e3 * kit().relativeRounding());
    }

    // Property 2: ρ₁ = ρ₂ = 0 gives the base optimizer's update.
    @Test
    default void zeroRadiiGiveTheBaseOptimizer() {
        Adam adam = Adam.builder().lr(0.02).build();
        Data data = new Data(13);
        for (AgnosticSam.Variant variant : AgnosticSam.Variant.values()) {
            AgnosticSam zero = AgnosticSam.builder().base(adam).rho1(0).rho2(step -> 0.0).variant(variant).build();
            assertClose("property 2: radii 0 give the base optimizer, " + variant + " (suspect add of a zero "
                    + "perturbation, div by the norm + ε, sqrt)", train(zero, data, 3, r -> { }),
                    train(adam, data, 3, r -> { }), 1e3 * kit().relativeRounding());
        }
    }

    // Property 3: the perturbation leaves no trace; θ becomes base.update(θ, g(θ + e)).
    @Test
    default void perturbationLeavesNoTraceWhenTheLearningRateIsZero() {
        Data data = new Data(14);
        for (boolean adaptive : new boolean[] {false, true}) {
            Sgd frozen = Sgd.builder().lr(0).momentum(0.9).weightDecay(0.01).build();
            AgnosticSam opt = AgnosticSam.builder().base(frozen).rho1(0.7).rho2(0.3).adaptive(adaptive).build();
            try (Network net = kit().build(data.init()); Training t = Training.start(net, opt)) {
                List<HostTensor> before = net.parameters(); // in the engine's precision
                for (int s = 0; s < 3; s++) {
                    t.step(data.train(s), data.validation(s));
                }
                assertThat(net.parameters()).as("property 3: with lr 0 the perturbation leaves no trace (adaptive "
                        + adaptive + "): suspect a perturbed pass that writes θ in place, or the engine storing a "
                        + "perturbed point as the parameters").isEqualTo(before);
            }
        }
    }

    @Test
    default void updateUsesTheGradientAtThePerturbedPoint() {
        Data data = new Data(15);
        double lr = 0.1;
        double rho1 = 0.3;
        double rho2 = 0.1;
        AgnosticSam opt = AgnosticSam.builder().base(sgd(lr)).rho1(rho1).rho2(rho2)
                .variant(AgnosticSam.Variant.FAST).build();
        try (Network net = kit().build(data.init())) {
            List<HostTensor> theta = net.parameters();
            Probes.Gradients gt = Probes.gradients(net, data.train(0));
            Probes.Gradients gv = Probes.gradients(net, data.validation(0));
            // e = ρ₁·gₜ/‖gₜ‖ − ρ₂·gᵥ/‖gᵥ‖, in float64 from the engine's own gradients.
            List<HostTensor> perturbed = new ArrayList<>();
            for (int p = 0; p < theta.size(); p++) {
                double[] v = theta.get(p).values().clone();
                for (int i = 0; i < v.length; i++) {
                    v[i] += rho1 * gt.grads().get(p)[i] / gt.norm() - rho2 * gv.grads().get(p)[i] / gv.norm();
                }
                perturbed.add(new HostTensor(theta.get(p).shape(), v));
            }
            net.setParameters(perturbed);
            Probes.Gradients g = Probes.gradients(net, data.train(0));
            net.setParameters(theta);
            try (Training t = Training.start(net, opt)) {
                t.step(data.train(0), data.validation(0));
            }
            List<HostTensor> after = net.parameters();
            for (int p = 0; p < theta.size(); p++) {
                for (int i = 0; i < theta.get(p).size(); i++) {
                    double expectedDelta = -lr * g.grads().get(p)[i];
                    double actualDelta = after.get(p).values()[i] - theta.get(p).values()[i];
                    assertThat(actualDelta).as("property 3: the update uses the gradient at θ + e, parameter %d element "
                            + "%d (suspect the oracle's batch for the last pass, or the values it was handed)", p, i)
                            .isCloseTo(expectedDelta, within(10 * kit().relativeRounding() + 1e-3 * Math.abs(expectedDelta)));
                }
            }
        }
    }

    // Property 4: ‖D‖ = 1 for a non-zero gradient, D(0) = 0, |ρ₁ − ρ₂| ≤ ‖e‖ ≤ ρ₁ + ρ₂.
    @Test
    default void plainDirectionHasUnitNormAndZeroForAZeroGradient() {
        Data data = new Data(16);
        double rho1 = 0.3;
        double rho2 = 0.2;
        try (Network net = kit().build(data.init())) {
            for (int s = 0; s < 3; s++) {
                double[] norms = Probes.ascentNorms(net, data.train(s), data.validation(s), false, 0, rho1, rho2);
                // ‖D‖ = ‖g‖/(‖g‖ + ε): 1 up to rounding and the ε guard.
                double smallest = Math.min(Probes.gradients(net, data.train(s)).norm(),
                        Probes.gradients(net, data.validation(s)).norm());
                double allowance = kit().relativeRounding() + Ascent.EPSILON / smallest;
                assertThat(norms[0]).as("property 4: ‖D(g)‖ = 1 (suspect sumOfSquares, sqrt, div)")
                        .isCloseTo(1.0, within(allowance));
                assertThat(norms[1]).as("property 4: D(0) = 0 (suspect div, the ε guard)").isEqualTo(0.0);
                assertThat(norms[2]).as("property 4: |rho1 − rho2| ≤ ‖e‖ ≤ rho1 + rho2 (suspect sub, the validation "
                        + "batch)").isBetween(Math.abs(rho1 - rho2) * (1 - allowance), (rho1 + rho2) * (1 + allowance));
            }
            double[] adaptive = Probes.ascentNorms(net, data.train(0), data.validation(0), true, 0.01, rho1, rho2);
            assertThat(adaptive[1]).as("property 4: adaptive D of a zero gradient is 0 (suspect abs, mul, div)")
                    .isEqualTo(0.0);
        }
    }

    // Property 5: L(θ + e) − L(θ) = ‖gₜ‖·(ρ₁ − ρ₂·cos∠(gₜ, gᵥ)) to first order.
    @Test
    default void firstOrderChangeOfTheTrainLoss() {
        Data data = new Data(17);
        double rho1 = 2e-3;
        double rho2 = 1e-3;
        AgnosticSam opt = AgnosticSam.builder().base(sgd(0)).rho1(rho1).rho2(rho2)
                .variant(AgnosticSam.Variant.FAST).build();
        try (Network net = kit().build(data.init())) {
            for (int s = 0; s < 3; s++) {
                Probes.Gradients gt = Probes.gradients(net, data.train(s));
                Probes.Gradients gv = Probes.gradients(net, data.validation(s));
                double cos = Probes.Gradients.dot(gt, gv) / (gt.norm() * gv.norm());
                double predicted = gt.norm() * (rho1 - rho2 * cos);
                double[] losses;
                try (Training t = Training.start(net, opt)) {
                    losses = t.step(data.train(s), data.validation(s)).passLosses();
                }
                double measured = losses[2] - losses[0];
                assertThat(Math.abs(measured - predicted) / Math.abs(predicted)).as("property 5: first-order change of "
                        + "the train loss, batch %d: measured %s, predicted %s (suspect the sign of the validation "
                        + "term, the batch of each pass)", s, measured, predicted).isLessThanOrEqualTo(5e-3);
            }
        }
    }

    /** Trains from the data's initial parameters and returns the parameters after {@code steps}. */
    private List<HostTensor> train(Optimizer opt, Data data, int steps, Consumer<StepResult> check) {
        try (Network net = kit().build(data.init()); Training t = Training.start(net, opt)) {
            for (int s = 0; s < steps; s++) {
                StepResult r = t.program().usesValidationBatch() ? t.step(data.train(s), data.validation(s))
                        : t.step(data.train(s));
                check.accept(r);
            }
            return net.parameters();
        }
    }
}
