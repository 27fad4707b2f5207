package io.github.agnosticsam.engine.tensorflow;

import io.github.agnosticsam.spi.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
    private final Map<List<Integer>, Operand<TInt32>> segmentIds = new HashMap<>();

    GraphTensors(Ops tf) {
        this.tf = tf;
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
        return tf.reduceSum(tf.math.square(flat(a)), tf.constant(0));
    }

    @Override
    public Operand<TFloat32> allFinite(Operand<TFloat32> a) {
        return tf.dtypes.cast(tf.reduceAll(tf.math.isFinite(flat(a)), tf.constant(0)), TFloat32.class);
    }

    /**
     * Three ops and two constants whatever the number of segments: the 0/1 finiteness of every
     * element, multiplied within each segment (exact: a product of 0s and 1s; an empty segment's is
     * 1). A vector whose size is known only when the step runs is checked then, by the segment op.
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
        Operand<TFloat32> finite = tf.dtypes.cast(tf.math.isFinite(flat), TFloat32.class);
        return tf.math.unsortedSegmentProd(finite, segmentIds(lengths, size), tf.constant(lengths.length));
    }

    /** Each element's segment: one constant per lengths, shared by the calls of one trace. */
    private Operand<TInt32> segmentIds(int[] lengths, int size) {
        return segmentIds.computeIfAbsent(Arrays.stream(lengths).boxed().toList(), key -> {
            int[] ids = new int[size];
            for (int segment = 0, at = 0; segment < lengths.length; at += lengths[segment++]) {
                Arrays.fill(ids, at, at + lengths[segment], segment);
            }
            return tf.constant(ids);
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
        return flat.size() == 1 ? flat.get(0) : tf.concat(flat, tf.constant(0)); // ConcatV2 takes >= 2

    }

    private Operand<TFloat32> flat(Operand<TFloat32> a) {
        return tf.reshape(a, tf.constant(new int[] {-1}));
    }
}
