package io.github.agnosticsam.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class OptimizersTest {
    private static final Sgd SGD = Sgd.builder().lr(0.05).momentum(0.9).build();

    @Test
    void namesMapToTheDocumentedDefaults() {
        assertThat(Optimizers.named("sgd").base(SGD).build()).isSameAs(SGD);
        assertThat(Optimizers.named("sam").base(SGD).build()).isEqualTo(new Sam(SGD, Schedule.constant(0.05), false, 0.01));
        assertThat(Optimizers.named("asam").base(SGD).build()).isEqualTo(new Sam(SGD, Schedule.constant(0.5), true, 0.01));
        assertThat(Optimizers.named("agnostic-sam").base(SGD).build()).isEqualTo(new AgnosticSam(SGD,
                Schedule.constant(0.1), Schedule.constant(0.05), AgnosticSam.Variant.EXACT, false, 0.01));
        assertThat(Optimizers.named("agnostic-sam-fast").base(SGD).build()).isEqualTo(new AgnosticSam(SGD,
                Schedule.constant(0.1), Schedule.constant(0.05), AgnosticSam.Variant.FAST, false, 0.01));
        assertThat(Optimizers.named("agnostic-asam").base(SGD).build()).isEqualTo(new AgnosticSam(SGD,
                Schedule.constant(1.0), Schedule.constant(0.5), AgnosticSam.Variant.EXACT, true, 0.01));
        assertThat(Optimizers.named("agnostic-asam-fast").base(SGD).rho2(0.2).eta(0).build()).isEqualTo(
                new AgnosticSam(SGD, Schedule.constant(0.4), Schedule.constant(0.2), AgnosticSam.Variant.FAST, true, 0));
    }

    /** One default rule: building by name and building with the builders give the same optimizer. */
    @Test
    void namedAndBuilderDefaultsAgree() {
        for (boolean adaptive : new boolean[] {false, true}) {
            String prefix = adaptive ? "agnostic-asam" : "agnostic-sam";
            assertThat(Optimizers.named(adaptive ? "asam" : "sam").base(SGD).build())
                    .isEqualTo(Sam.builder().base(SGD).adaptive(adaptive).build());
            assertThat(Optimizers.named(prefix).base(SGD).build())
                    .isEqualTo(AgnosticSam.builder().base(SGD).adaptive(adaptive).build());
            assertThat(Optimizers.named(prefix).base(SGD).rho2(0.2).build())
                    .isEqualTo(AgnosticSam.builder().base(SGD).adaptive(adaptive).rho2(0.2).build())
                    .extracting(o -> ((AgnosticSam) o).rho1()).isEqualTo(Schedule.constant(0.4));
            assertThat(Optimizers.named(prefix + "-fast").base(SGD).rho1(0.3).build())
                    .isEqualTo(AgnosticSam.builder().base(SGD).adaptive(adaptive).rho1(0.3)
                            .variant(AgnosticSam.Variant.FAST).build());
        }
        assertThat(Sam.builder().base(SGD).adaptive(true).build().rho()).isEqualTo(Schedule.constant(0.5));
        assertThat(AgnosticSam.builder().base(SGD).adaptive(true).build())
                .extracting(AgnosticSam::rho1, AgnosticSam::rho2)
                .containsExactly(Schedule.constant(1.0), Schedule.constant(0.5));
    }

    @Test
    void unknownNamesAndMisplacedRadiiAreRejected() {
        assertThatThrownBy(() -> Optimizers.named(null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("got null");
        assertThatThrownBy(() -> Optimizers.named("lookahead")).hasMessageContaining("'lookahead'")
                .hasMessageContaining("agnostic-asam-fast");
        assertThatThrownBy(() -> Optimizers.named("agnostic-sam").base(SGD).rho(0.1).build())
                .hasMessageContaining("rho applies to sam and asam");
        assertThatThrownBy(() -> Optimizers.named("sam").base(SGD).rho1(0.1).build())
                .hasMessageContaining("rho1/rho2 applies to the agnostic-* optimizers, not to sam");
        assertThatThrownBy(() -> Optimizers.named("sam").base(SGD).eta(0.1).build()).hasMessageContaining("eta");
        assertThatThrownBy(() -> Optimizers.named("sgd").base(SGD).rho(0.1).build()).hasMessageContaining("not to sgd");
        assertThatThrownBy(() -> Optimizers.named("sam").build()).hasMessageContaining("base optimizer is required");
    }
}
