package io.github.agnosticsam;

import io.github.agnosticsam.model.Activation;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import io.github.agnosticsam.spi.Network;
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
    void theArtifactOfTheEngineAskedForIsSuggested() {
        assertThatThrownBy(() -> Engines.select(List.of(DJL), "tensorflow", null))
                .hasMessageContaining("add io.github.agnosticsam:agnostic-sam-engine-tensorflow")
                .hasMessageNotContaining("agnostic-sam-engine-djl");
        assertThatThrownBy(() -> Engines.select(List.of(TF), "djl", null))
                .hasMessageContaining("add io.github.agnosticsam:agnostic-sam-engine-djl");
        assertThatThrownBy(() -> Engines.select(List.of(), "reference", null))
                .hasMessageContaining("agnostic-sam-conformance");
        // The artifact with this build's version (engines.properties is filtered), which a checkpoint records too.
        assertThatThrownBy(() -> Engines.select(List.of(TF), "djl", null))
                .hasMessageContaining("agnostic-sam-engine-djl:" + io.github.agnosticsam.training.Checkpoint.LIBRARY_VERSION + " ")
                .hasMessageNotContaining("${");
        assertThatThrownBy(() -> Engines.select(List.of(), null, null)).as("no engine asked for: every published one")
                .hasMessageContaining("agnostic-sam-engine-djl:").hasMessageContaining("agnostic-sam-engine-tensorflow:");
    }

    @Test
    void twoProvidersWithOneNameAreAnErrorNamingBoth() {
        Versioned other = new Versioned("djl", "1.0");
        assertThatThrownBy(() -> Engines.select(List.of(DJL, other, TF), "djl", null))
                .isInstanceOf(EngineNotFoundException.class)
                .hasMessageContaining("2 engine providers are named 'djl'")
                .hasMessageContaining(Fake.class.getName()).hasMessageContaining(Versioned.class.getName());
        assertThatThrownBy(() -> Engines.select(List.of(DJL, other, TF), null, null))
                .hasMessageContaining("2 engine providers are named 'djl'");
        assertThat(Engines.select(List.of(DJL, other, TF), "tensorflow", null)).isSameAs(TF);
    }

    /** A provider that declares the SPI version it was built against. */
    private record Versioned(String name, String spiVersion) implements EngineProvider {
        @Override
        public int priority() {
            return 100;
        }

        @Override
        public boolean isAvailable() {
            return true;
        }

        @Override
        public Engine create(EngineOptions options) {
            throw new UnsupportedOperationException("not created in this test");
        }
    }

    @Test
    void spiVersionsOfTheSameMajorUpToThisCoreAreAccepted() {
        assertThat(EngineProvider.SPI_VERSION).isEqualTo("1.2");
        assertThat(DJL.spiVersion()).as("an engine that does not declare a version").isEqualTo("1.0");
        assertThat(Engines.select(List.of(DJL), "djl", null)).as("built against 1.0, on a 1.2 core").isSameAs(DJL);
        Versioned current = new Versioned("mine", EngineProvider.SPI_VERSION);
        assertThat(Engines.select(List.of(current), "mine", null)).isSameAs(current);
    }

    @Test
    void aNewerOrOtherMajorSpiVersionIsAClearError() {
        assertThatThrownBy(() -> Engines.select(List.of(new Versioned("mine", "1.7")), "mine", null))
                .isInstanceOf(EngineNotFoundException.class)
                .hasMessageContaining("built against SPI 1.7").hasMessageContaining("provides SPI 1.2")
                .hasMessageContaining("use an agnostic-sam-core that provides SPI 1.7");
        assertThatThrownBy(() -> Engines.select(List.of(new Versioned("mine", "0.9")), "mine", null))
                .hasMessageContaining("built for SPI 1.x");
        assertThatThrownBy(() -> Engines.select(List.of(new Versioned("mine", "one")), "mine", null))
                .hasMessageContaining("declares SPI version 'one'");
        // Not chosen by priority either; the listing says why.
        assertThatThrownBy(() -> Engines.select(List.of(new Versioned("mine", "2.0")), null, null))
                .hasMessageContaining("no engine to choose by priority").hasMessageContaining("built for SPI 2.0");
        assertThat(Engines.select(List.of(new Versioned("mine", "2.0"), TF), null, null)).isSameAs(TF);
    }

    @Test
    void coreAloneFindsNoEngine() {
        assertThat(Engines.providers()).isEmpty();
        assertThatThrownBy(Engines::load).isInstanceOf(EngineNotFoundException.class);
    }
}
