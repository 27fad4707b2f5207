package io.github.agnosticsam.spi;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StateSlotTest {
    @Test
    void startsAsATensorOfItsShapeFilledWithItsInitialValue() {
        StateSlot slot = new StateSlot("sum.0", new int[] {2, 3}, 0.1);
        assertThat(slot.initial().shape()).containsExactly(2, 3);
        assertThat(slot.initial().values()).containsOnly(0.1).hasSize(6);
    }
}
