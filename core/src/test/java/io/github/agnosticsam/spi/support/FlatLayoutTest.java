package io.github.agnosticsam.spi.support;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.spi.StateSlot;
import java.util.List;
import org.junit.jupiter.api.Test;

class FlatLayoutTest {
    private static final FlatLayout LAYOUT = new FlatLayout(List.of(new int[] {2, 3}, new int[] {2}));

    private static HostTensor a(double first) {
        return new HostTensor(new int[] {2, 3}, new double[] {first, first + 1, first + 2, first + 3, first + 4, first + 5});
    }

    private static HostTensor b(double first) {
        return HostTensor.of(new double[] {first, first + 1}, 2);
    }

    @Test
    void joinsTheTensorsOneAfterAnotherAndSplitsThemBack() {
        HostTensor flat = LAYOUT.join(List.of(a(0), b(10)));
        assertThat(flat.shape()).containsExactly(8);
        assertThat(flat.values()).containsExactly(0, 1, 2, 3, 4, 5, 10, 11);
        assertThat(LAYOUT.split(flat)).containsExactly(a(0), b(10));
    }

    /** Slots kP … kP+P−1 are kind k: the first moment of every tensor, then the second. */
    @Test
    void joinsStateOneVectorPerKindAndSplitsItBackKindMajor() {
        List<HostTensor> slots = List.of(a(0), b(10), a(20), b(30));
        assertThat(LAYOUT.kinds(List.of(new StateSlot("m.a", new int[] {2, 3}, 0), new StateSlot("m.b", new int[] {2}, 0),
                new StateSlot("v.a", new int[] {2, 3}, 0), new StateSlot("v.b", new int[] {2}, 0)))).isEqualTo(2);
        List<HostTensor> kinds = LAYOUT.joinKinds(slots);
        assertThat(kinds).hasSize(2);
        assertThat(kinds.get(0).values()).containsExactly(0, 1, 2, 3, 4, 5, 10, 11);
        assertThat(kinds.get(1).values()).containsExactly(20, 21, 22, 23, 24, 25, 30, 31);
        assertThat(LAYOUT.splitKinds(kinds)).containsExactlyElementsOf(slots);
    }

    /** Aligned to 4: each segment ends in zeros up to a multiple of 4, which split drops again. */
    @Test
    void padsEachSegmentToTheAlignmentWithZerosAndDropsThemAgain() {
        FlatLayout aligned = new FlatLayout(List.of(new int[] {2, 3}, new int[] {2}), 4);
        assertThat(aligned.lengths()).containsExactly(8, 4);
        assertThat(aligned.offset(1)).isEqualTo(8);
        assertThat(aligned.tensorSize(0)).isEqualTo(6);
        HostTensor flat = aligned.join(List.of(a(1), b(10)));
        assertThat(flat.values()).containsExactly(1, 2, 3, 4, 5, 6, 0, 0, 10, 11, 0, 0);
        assertThat(aligned.split(flat)).containsExactly(a(1), b(10));
        assertThat(aligned.splitKinds(aligned.joinKinds(List.of(a(1), b(10), a(20), b(30)))))
                .containsExactly(a(1), b(10), a(20), b(30));
    }
}
