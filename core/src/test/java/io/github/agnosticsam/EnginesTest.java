package io.github.agnosticsam;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.agnosticsam.spi.EngineProvider;
import java.util.List;
import org.junit.jupiter.api.Test;

class EnginesTest {

    private record Fake(String name, int priority, boolean isAvailable) implements EngineProvider {
        @Override
        public Engine create(EngineOptions options) {
            throw new UnsupportedOperationException("not created in this test");
        }
    }

    private static final Fake DJL = new Fake("djl", 100, true);
    private static final Fake TF = new Fake("tensorflow", 50, true);
    private static final Fake REFERENCE = new Fake("reference", Integer.MIN_VALUE, true);

    @Test
    void namedEngineWinsOverPropertyAndPriority() {
        assertThat(Engines.select(List.of(DJL, TF, REFERENCE), "tensorflow", "djl")).isSameAs(TF);
        assertThat(Engines.select(List.of(DJL, TF, REFERENCE), "reference", null)).isSameAs(REFERENCE);
    }

    @Test
    void nameIsCaseInsensitiveAndTrimmed() {
        assertThat(Engines.select(List.of(DJL, TF), " TensorFlow ", null)).isSameAs(TF);
    }

    @Test
    void systemPropertyWinsOverPriority() {
        assertThat(Engines.select(List.of(DJL, TF), null, "tensorflow")).isSameAs(TF);
        assertThat(Engines.select(List.of(DJL, TF), "", "tensorflow")).isSameAs(TF);
    }

    @Test
    void highestAvailablePriorityWinsThenName() {
        assertThat(Engines.select(List.of(TF, DJL, REFERENCE), null, null)).isSameAs(DJL);
        Fake unavailableDjl = new Fake("djl", 100, false);
        assertThat(Engines.select(List.of(unavailableDjl, TF), null, null)).isSameAs(TF);
        Fake a = new Fake("alpha", 7, true);
        Fake b = new Fake("beta", 7, true);
        assertThat(Engines.select(List.of(b, a), null, null)).isSameAs(a);
    }

    @Test
    void negativePriorityIsNeverChosenByPriority() {
        assertThatThrownBy(() -> Engines.select(List.of(REFERENCE), null, null))
                .isInstanceOf(EngineNotFoundException.class)
                .hasMessageContaining("no engine to choose by priority")
                .hasMessageContaining("reference (chosen only by name)");
    }

    @Test
    void unknownNameListsWhatWasFoundAndHowToAddOne() {
        assertThatThrownBy(() -> Engines.select(List.of(DJL, REFERENCE), "torch", null))
                .isInstanceOf(EngineNotFoundException.class)
                .hasMessageContaining("no engine named 'torch'")
                .hasMessageContaining("djl (priority 100)")
                .hasMessageContaining("reference (chosen only by name)")
                .hasMessageContaining("agnostic-sam-engine-djl")
                .hasMessageContaining(EngineProvider.class.getName());
        assertThatThrownBy(() -> Engines.select(List.of(), null, "torch"))
                .hasMessageContaining("from system property agnosticsam.engine")
                .hasMessageContaining("Engines found: none");
    }

    @Test
    void namedButUnavailableEngineSaysSo() {
        assertThatThrownBy(() -> Engines.select(List.of(new Fake("djl", 100, false)), "djl", null))
                .isInstanceOf(EngineNotFoundException.class)
                .hasMessageContaining("'djl' is on the class path but not available")
                .hasMessageContaining("djl (priority 100, not available)");
    }

    @Test
    void coreAloneFindsNoEngine() {
        assertThat(Engines.providers()).isEmpty();
        assertThatThrownBy(Engines::load).isInstanceOf(EngineNotFoundException.class);
    }
}
