package io.github.agnosticsam.engine.tensorflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

class GraphTensorsTest {
    private static final int[] LENGTHS = {1000, 7, 300, 1};

    /**
     * A NaN, +Inf or -Inf at the first, a middle or the last element of a segment flags that segment
     * alone, whether the element is in a row of its segment, a row across a boundary, or the rest.
     */
    @Test
    void allFiniteSegmentsFlagsExactlyTheSegmentWithABadElement() {
        int n = Arrays.stream(LENGTHS).sum();
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) Math.cos(i) * 1e38f; // large, but finite
        }
        try (Graph g = new Graph(); Session session = new Session(g)) {
            Ops tf = Ops.create(g);
            Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(n)));
            Operand<TFloat32> flags = new GraphTensors(tf).allFiniteSegments(x, LENGTHS);
            assertThat(run(session, x, flags, values)).containsExactly(1, 1, 1, 1);
            int start = 0;
            for (int s = 0; s < LENGTHS.length; s++) {
                for (int at : new int[] {start, start + LENGTHS[s] / 2, start + LENGTHS[s] - 1}) {
                    for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                        float[] copy = values.clone();
                        copy[at] = bad;
                        float[] expected = {1, 1, 1, 1};
                        expected[s] = 0;
                        assertThat(run(session, x, flags, copy)).as("%s at %d (segment %d)", bad, at, s)
                                .containsExactly(expected);
                    }
                }
                start += LENGTHS[s];
            }
        }
    }

    /** A tensor with no elements has nothing that is not finite, wherever it lies. */
    @Test
    void anEmptySegmentIsFinite() {
        int[] lengths = {3, 0, 2, 0};
        try (Graph g = new Graph(); Session session = new Session(g)) {
            Ops tf = Ops.create(g);
            Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(5)));
            Operand<TFloat32> flags = new GraphTensors(tf).allFiniteSegments(x, lengths);
            assertThat(run(session, x, flags, new float[] {1, 2, 3, 4, 5})).containsExactly(1, 1, 1, 1);
            assertThat(run(session, x, flags, new float[] {1, 2, 3, Float.NaN, 5})).containsExactly(1, 1, 0, 1);
        }
    }

    /**
     * The nodes do not grow with the segments (1308 of one element cost what 4 do), and a second call
     * in one trace reuses the constants.
     */
    @Test
    void allFiniteSegmentsTakesAFixedNumberOfNodes() {
        int n = Arrays.stream(LENGTHS).sum();
        int[] ones = new int[n];
        Arrays.fill(ones, 1);
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(n)));
            GraphTensors ops = new GraphTensors(tf);
            int four = added(g, () -> ops.allFiniteSegments(x, LENGTHS));
            assertThat(added(g, () -> ops.allFiniteSegments(x, ones))).isEqualTo(four);
            assertThat(added(g, () -> ops.allFiniteSegments(x, LENGTHS))).isEqualTo(11);
        }
    }

    @Test
    void segmentsThatDoNotAddUpToTheVectorAreRefused() {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(1309)));
            assertThatThrownBy(() -> new GraphTensors(tf).allFiniteSegments(x, LENGTHS))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1308 elements")
                    .hasMessageContaining("[1309]");
        }
    }

    private static int added(Graph g, Runnable trace) {
        int before = count(g);
        trace.run();
        return count(g) - before;
    }

    private static int count(Graph g) {
        int n = 0;
        for (var it = g.operations(); it.hasNext(); it.next()) {
            n++;
        }
        return n;
    }

    private static float[] run(Session session, Placeholder<TFloat32> x, Operand<TFloat32> flags, float[] values) {
        try (TFloat32 in = TFloat32.tensorOf(Shape.of(values.length),
                org.tensorflow.ndarray.buffer.DataBuffers.of(values, true, false));
                Result r = session.runner().feed(x, in).fetch(flags).run()) {
            return TfNetwork.toFloats((TFloat32) r.get(0));
        }
    }
}
