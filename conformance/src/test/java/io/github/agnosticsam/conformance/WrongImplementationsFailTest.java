package io.github.agnosticsam.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.agnosticsam.conformance.reference.ReferenceEngine;
import io.github.agnosticsam.optim.AgnosticSam;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import io.github.agnosticsam.spi.GradientOracle;
import io.github.agnosticsam.spi.LossAndGradients;
import io.github.agnosticsam.spi.Pass;
import io.github.agnosticsam.spi.StateSlot;
import io.github.agnosticsam.spi.StepOutput;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.spi.Tensors;
import io.github.agnosticsam.training.StepPrograms;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The golden cases can fail: deliberately wrong optimizers miss them by orders of magnitude. */
class WrongImplementationsFailTest {
    private static Engine engine;

    @BeforeAll
    static void start() {
        engine = new ReferenceEngine(EngineOptions.DEFAULT);
    }

    @AfterAll
    static void stop() {
        engine.close();
    }

    @Test
    void theRightImplementationPasses() {
        CaseResult r = CaseRunner.run(engine, GoldenCases.load("agnostic-sam-exact-relu"));
        assertThat(r.outcome()).as(r.line()).isEqualTo(CaseResult.Outcome.PASS);
        assertThat(r.worstRatio()).isLessThan(1e-3);
    }

    @Test
    void fastRunOnAnExactCaseFails() {
        for (String name : List.of("agnostic-sam-exact-relu", "agnostic-sam-exact-tanh", "agnostic-asam-tanh")) {
            ConformanceCase c = GoldenCases.load(name);
            AgnosticSam exact = (AgnosticSam) c.optimizer();
            AgnosticSam fast = new AgnosticSam(exact.base(), exact.rho1(), exact.rho2(), AgnosticSam.Variant.FAST,
                    exact.adaptive(), exact.eta());
            CaseResult r = CaseRunner.run(engine, c, StepPrograms.of(fast));
            assertThat(r.outcome()).as(r.line()).isEqualTo(CaseResult.Outcome.FAIL);
            assertThat(r.worstRatio()).as(r.line()).isGreaterThan(100);
        }
    }

    @Test
    void weightDecayInsideThePerturbationFails() {
        for (String name : List.of("sam-relu", "agnostic-sam-exact-tanh", "agnostic-sam-fast-relu")) {
            ConformanceCase c = GoldenCases.load(name);
            StepProgram wrong = new WeightDecayInPerturbation(StepPrograms.of(c.optimizer()), 0.005);
            CaseResult r = CaseRunner.run(engine, c, wrong);
            assertThat(r.outcome()).as(r.line()).isEqualTo(CaseResult.Outcome.FAIL);
            assertThat(r.worstRatio()).as(r.line()).isGreaterThan(100);
        }
    }

    /**
     * The mistake davda54/sam avoids: the ascent directions see g + λθ. Every pass but the last
     * (whose gradient goes to the base optimizer, which adds λθ itself) gets λθ added.
     */
    private record WeightDecayInPerturbation(StepProgram right, double lambda) implements StepProgram {
        @Override
        public List<Pass> passes() {
            return right.passes();
        }

        @Override
        public List<StateSlot> state(List<int[]> parameterShapes) {
            return right.state(parameterShapes);
        }

        @Override
        public double[] scalars(long step) {
            return right.scalars(step);
        }

        @Override
        public <T> StepOutput<T> define(Tensors<T> ops, GradientOracle<T> oracle, List<T> parameters, List<T> state,
                List<T> scalars) {
            GradientOracle<T> decayed = (params, pass) -> {
                LossAndGradients<T> r = oracle.evaluate(params, pass);
                if (pass == Pass.TRAIN_PERTURBED) {
                    return r;
                }
                List<T> g = new ArrayList<>();
                for (int i = 0; i < params.size(); i++) {
                    g.add(ops.add(r.gradients().get(i), ops.mul(ops.scalar(lambda), params.get(i))));
                }
                return new LossAndGradients<>(r.loss(), g);
            };
            return right.define(ops, decayed, parameters, state, scalars);
        }
    }
}
