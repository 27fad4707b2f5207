package io.github.agnosticsam.engine.tensorflow;

import io.github.agnosticsam.spi.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/** The algebra as graph operands in float32: tracing a step adds its ops to the graph once. */
final class GraphTensors implements Tensors<Operand<TFloat32>> {
    private final Ops tf;
    private final Map<Double, Operand<TFloat32>> constants = new HashMap<>();
    private final Map<List<Integer>, Rows> rows = new HashMap<>();
    /** Axis 0, made once per trace: every reduction and concatenation of a step names it. */
    private Operand<TInt32> axis0;

    GraphTensors(Ops tf) {
        this.tf = tf;
    }

    private Operand<TInt32> axis0() {
        if (axis0 == null) {
            axis0 = tf.constant(0);
        }
        return axis0;
    }

    @Override
    public Operand<TFloat32> scalar(double value) {
        return constants.computeIfAbsent(value, v -> tf.constant((float) (double) v));
    }

    @Override
    public Operand<TFloat32> add(Operand<TFloat32> a, Operand<TFloat32> b) {
        return tf.math.add(a, b);
    }

    @Override
    public Operand<TFloat32> sub(Operand<TFloat32> a, Operand<TFloat32> b) {
        return tf.math.sub(a, b);
    }

    @Override
    public Operand<TFloat32> mul(Operand<TFloat32> a, Operand<TFloat32> b) {
        return tf.math.mul(a, b);
    }

    @Override
    public Operand<TFloat32> div(Operand<TFloat32> a, Operand<TFloat32> b) {
        return tf.math.div(a, b);
    }

    @Override
    public Operand<TFloat32> sqrt(Operand<TFloat32> a) {
        return tf.math.sqrt(a);
    }

    @Override
    public Operand<TFloat32> abs(Operand<TFloat32> a) {
        return tf.math.abs(a);
    }

    @Override
    public Operand<TFloat32> sumOfSquares(Operand<TFloat32> a) {
        return tf.reduceSum(tf.math.square(flat(a)), axis0());
    }

    @Override
    public Operand<TFloat32> allFinite(Operand<TFloat32> a) {
        return tf.dtypes.cast(tf.reduceAll(tf.math.isFinite(flat(a)), axis0()), TFloat32.class);
    }

    /**
     * Exact, in eleven ops whatever the segments, and about as fast as {@link #allFinite}: the
     * vector's first R·W elements are R rows of W, each row's finiteness one reduction; a row that
     * lies in one segment counts for it, and the elements of a row across a boundary (and of the
     * short rest) are checked one by one. Flags multiply per segment ({@code UnsortedSegmentProd}:
     * exact on 0s and 1s, 1 for an empty segment, and an id of -1 drops a row). That op is slow per
     * element, so it sees only rows and boundary elements: W ≈ √(N/S) makes both about √(N·S).
     */
    @Override
    public Operand<TFloat32> allFiniteSegments(Operand<TFloat32> flat, int[] lengths) {
        int size = Math.toIntExact(Arrays.stream(lengths).asLongStream().sum());
        Shape shape = flat.shape();
        if (!shape.isUnknown() && (shape.numDimensions() != 1
                || shape.size(0) != Shape.UNKNOWN_SIZE && shape.size(0) != size)) {
            throw new IllegalArgumentException("segments of " + size + " elements in all, the vector has shape "
                    + shape);
        }
        Rows rows = rows(lengths, size);
        Operand<TFloat32> matrix = tf.reshape(tf.slice(flat, rows.begin(), rows.length()), rows.shape());
        Operand<TFloat32> byRow = tf.math.unsortedSegmentProd(finite(tf.reduceAll(tf.math.isFinite(matrix),
                rows.one())), rows.rowSegment(), rows.segments());
        Operand<TFloat32> byElement = tf.math.unsortedSegmentProd(finite(tf.math.isFinite(tf.gather(flat,
                rows.elements(), rows.zero()))), rows.elementSegment(), rows.segments());
        return tf.math.mul(byRow, byElement);
    }

    private Operand<TFloat32> finite(Operand<TBool> flags) {
        return tf.dtypes.cast(flags, TFloat32.class);
    }

    /** The constants of {@link #allFiniteSegments} for one list of lengths; made once per trace. */
    private record Rows(Operand<TInt32> begin, Operand<TInt32> length, Operand<TInt32> shape,
            Operand<TInt32> rowSegment, Operand<TInt32> elements, Operand<TInt32> elementSegment,
            Operand<TInt32> segments, Operand<TInt32> zero, Operand<TInt32> one) {
    }

    private Rows rows(int[] lengths, int n) {
        return rows.computeIfAbsent(Arrays.stream(lengths).boxed().toList(), key -> {
            int[] ends = new int[lengths.length];
            for (int i = 0, end = 0; i < lengths.length; i++) {
                end += lengths[i];
                ends[i] = end;
            }
            // A multiple of 16 floats (64 bytes): TensorFlow's Slice of an aligned head is a view, not a copy.
            int width = 16 * Math.max(1, (int) Math.round(Math.sqrt((double) n / Math.max(1, lengths.length)) / 16));
            int count = n / width;
            int[] rowSegment = new int[count];
            IntStream.Builder elements = IntStream.builder();
            IntStream.Builder elementSegment = IntStream.builder();
            int k = 0; // the segment of the element looked at: it only moves on
            for (int at = 0; at < n; at++) {
                while (ends[k] <= at) {
                    k++;
                }
                int row = at / width;
                if (row < count && at % width == 0 && ends[k] >= at + width) { // a whole row in segment k
                    rowSegment[row] = k;
                    at += width - 1;
                } else { // an element of a row across a boundary, or of the rest: checked alone
                    if (row < count) {
                        rowSegment[row] = -1; // dropped
                    }
                    elements.add(at);
                    elementSegment.add(k);
                }
            }
            return new Rows(tf.constant(new int[] {0}), tf.constant(new int[] {count * width}),
                    tf.constant(new int[] {count, width}), tf.constant(rowSegment), tf.constant(elements.build().toArray()),
                    tf.constant(elementSegment.build().toArray()), tf.constant(lengths.length), tf.constant(0),
                    tf.constant(1));
        });
    }

    @Override
    public Operand<TFloat32> where(Operand<TFloat32> condition, Operand<TFloat32> a, Operand<TFloat32> b) {
        Operand<TBool> mask = tf.dtypes.cast(condition, TBool.class);
        return tf.select(mask, a, b); // SelectV2: broadcasts the scalar mask
    }

    @Override
    public Operand<TFloat32> concat(List<Operand<TFloat32>> tensors) {
        List<Operand<TFloat32>> flat = new ArrayList<>(tensors.size());
        for (Operand<TFloat32> t : tensors) {
            flat.add(flat(t));
        }
        return flat.size() == 1 ? flat.get(0) : tf.concat(flat, axis0()); // ConcatV2 takes >= 2

    }

    /** The elements as a vector: a vector as it is (flat storage's, a running statistic), else reshaped. */
    private Operand<TFloat32> flat(Operand<TFloat32> a) {
        Shape shape = a.shape();
        if (!shape.isUnknown() && shape.numDimensions() == 1) {
            return a;
        }
        return tf.reshape(a, tf.constant(new int[] {-1}));
    }
}
