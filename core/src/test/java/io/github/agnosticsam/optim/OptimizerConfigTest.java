package io.github.agnosticsam.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every hyperparameter out of its range is an IllegalArgumentException naming it, its value and the range. */
class OptimizerConfigTest {
    private static final Sgd SGD = Sgd.builder().lr(0.1).build();

    static Stream<Arguments> invalid() {
        return Stream.of(
                bad("lr", "-0.1", ">= 0", () -> Sgd.builder().lr(-0.1).build()),
                bad("lr", "NaN", ">= 0", () -> Sgd.builder().lr(Double.NaN).build()),
                bad("momentum", "1.0", "[0, 1)", () -> Sgd.builder().lr(0.1).momentum(1).build()),
                bad("momentum", "-0.5", "[0, 1)", () -> Sgd.builder().lr(0.1).momentum(-0.5).build()),
                bad("weightDecay", "-1.0", ">= 0", () -> Sgd.builder().lr(0.1).weightDecay(-1).build()),
                bad("weightDecay", "Infinity", ">= 0",
                        () -> Sgd.builder().lr(0.1).weightDecay(Double.POSITIVE_INFINITY).build()),
                bad("nesterov", "momentum 0", "> 0", () -> Sgd.builder().lr(0.1).nesterov(true).build()),
                bad("beta1", "1.0", "[0, 1)", () -> Adam.builder().lr(0.1).beta1(1).build()),
                bad("beta2", "-0.1", "[0, 1)", () -> Adam.adamW().lr(0.1).beta2(-0.1).build()),
                bad("epsilon", "0.0", "> 0", () -> Adam.builder().lr(0.1).epsilon(0).build()),
                bad("weightDecay", "-0.01", ">= 0", () -> Adam.adamW().lr(0.1).weightDecay(-0.01).build()),
                bad("rho", "-0.05", ">= 0", () -> Sam.builder().base(SGD).rho(-0.05).build()),
                bad("eta", "-0.01", ">= 0", () -> Sam.builder().base(SGD).eta(-0.01).build()),
                bad("rho1", "-1.0", ">= 0", () -> AgnosticSam.builder().base(SGD).rho1(-1).build()),
                bad("rho2", "NaN", ">= 0", () -> AgnosticSam.builder().base(SGD).rho2(Double.NaN).build()),
                bad("base optimizer", "", "required", () -> Sam.builder().build()),
                // What float32 cannot hold: refused when the optimizer is built.
                bad("lr", "1.0E39", "at most 3.4028234663852886E38", () -> Sgd.builder().lr(1e39).build()),
                bad("lr", "1.7976931348623157E308", "largest float32",
                        () -> Adam.builder().lr(Double.MAX_VALUE).build()),
                bad("weightDecay", "1.0E39", "largest float32", () -> Sgd.builder().lr(0.1).weightDecay(1e39).build()),
                bad("epsilon", "1.0E-40", "smallest normal float32", () -> Adam.builder().lr(0.1).epsilon(1e-40).build()),
                bad("rho", "1.0E300", "largest float32", () -> Sam.builder().base(SGD).rho(1e300).build()),
                bad("eta", "1.0E39", "largest float32", () -> Sam.builder().base(SGD).adaptive(true).eta(1e39).build()),
                bad("rho1", "1.0E39", "largest float32", () -> AgnosticSam.builder().base(SGD).rho1(1e39).build()),
                bad("rho2", "1.0E39", "largest float32", () -> AgnosticSam.builder().base(SGD).rho2(1e39).build()),
                bad("lr[1]", "1.0E39", "largest float32", () -> Sgd.builder().lr(Schedule.perStep(0.1, 1e39)).build()),
                bad("lr at step 0", "1.0E39", "largest float32", () -> Sgd.builder().lr(step -> 1e39).build()),
                bad("rho at step 0", "-1.0", ">= 0", () -> Sam.builder().base(SGD).rho(step -> -1.0).build()),
                bad("lr", "", "required", () -> Sgd.builder().build()));
    }

    private static Arguments bad(String name, String value, String range, Supplier<Object> build) {
        return Arguments.of(name, value, range, build);
    }

    @ParameterizedTest(name = "{0} = {1}")
    @MethodSource("invalid")
    void outOfRangeIsRejectedWithANamedMessage(String name, String value, String range, Supplier<Object> build) {
        assertThatThrownBy(build::get).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(name).hasMessageContaining(value).hasMessageContaining(range);
    }

    @Test
    void aScheduleIsCheckedAgainAtEveryStepBeforeItRuns() {
        io.github.agnosticsam.algorithm.OptimizerProgram program = io.github.agnosticsam.algorithm.OptimizerProgram.of(
                Sam.builder().base(Sgd.builder().lr(step -> step < 3 ? 0.1 : 1e39).build()).rho(0.05).build());
        program.scalars(2);
        assertThatThrownBy(() -> program.scalars(3)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("lr at step 3").hasMessageContaining("1.0E39")
                .hasMessageContaining("largest float32");
    }

    @Test
    void theFloat32ExtremesAreAccepted() {
        Sgd.builder().lr(Float.MAX_VALUE).weightDecay(Float.MAX_VALUE).build();
        Adam.builder().lr(1e-45).epsilon(Float.MIN_NORMAL).build();
        AgnosticSam.builder().base(SGD).rho1(Float.MAX_VALUE).rho2(1e-300).eta(Float.MAX_VALUE).build();
    }

    @Test
    void boundariesAreAccepted() {
        Sgd.builder().lr(0).momentum(0).weightDecay(0).build();
        Adam.builder().lr(0).beta1(0).beta2(0).weightDecay(0).build();
        AgnosticSam.builder().base(SGD).rho1(0).rho2(0).eta(0).build();
        Sam.builder().base(SGD).rho(0).eta(0).build();
    }

    @Test
    void agnosticSamDefaultsFollowTheSpec() {
        AgnosticSam a = AgnosticSam.builder().base(SGD).build();
        assertThat(a.rho2().at(0)).isEqualTo(0.05);
        assertThat(a.rho1().at(0)).isEqualTo(0.1);
        assertThat(a.variant()).isEqualTo(AgnosticSam.Variant.EXACT);
        assertThat(a.adaptive()).isFalse();
        assertThat(a.eta()).isEqualTo(0.01);
        assertThat(a.gradientEvaluations()).isEqualTo(4);
        assertThat(AgnosticSam.builder().base(SGD).rho2(0.3).build().rho1().at(5)).isEqualTo(0.6);
    }

    @Test
    void gradientEvaluationsPerStep() {
        assertThat(SGD.gradientEvaluations()).isEqualTo(1);
        assertThat(Sam.builder().base(SGD).build().gradientEvaluations()).isEqualTo(2);
        assertThat(AgnosticSam.builder().base(SGD).variant(AgnosticSam.Variant.FAST).build().gradientEvaluations())
                .isEqualTo(3);
        AgnosticSam zero = AgnosticSam.builder().base(SGD).rho1(0.1).rho2(0).build();
        assertThat(zero.isPlainSam()).isTrue();
        assertThat(zero.gradientEvaluations()).isEqualTo(2);
        AgnosticSam scheduledZero = AgnosticSam.builder().base(SGD).rho1(0.1).rho2(step -> 0).build();
        assertThat(scheduledZero.isPlainSam()).isFalse();
        assertThat(scheduledZero.gradientEvaluations()).isEqualTo(4);
    }

    @Test
    void adamWDefaultsToDecoupledWeightDecay() {
        Adam w = Adam.adamW().lr(1e-3).build();
        assertThat(w.decoupledWeightDecay()).isTrue();
        assertThat(w.weightDecay()).isEqualTo(0.01);
        assertThat(w.toString()).startsWith("AdamW");
        assertThat(Adam.builder().lr(1e-3).build().weightDecay()).isZero();
    }

    @Test
    void cosineScheduleAnnealsToZero() {
        Schedule s = Schedule.cosine(0.05, 100);
        assertThat(s.at(0)).isEqualTo(0.05);
        assertThat(s.at(50)).isCloseTo(0.025, org.assertj.core.api.Assertions.within(1e-15));
        assertThat(s.at(100)).isCloseTo(0, org.assertj.core.api.Assertions.within(1e-15));
        assertThatThrownBy(() -> Schedule.cosine(0.1, 0)).hasMessageContaining("totalSteps");
    }
}
