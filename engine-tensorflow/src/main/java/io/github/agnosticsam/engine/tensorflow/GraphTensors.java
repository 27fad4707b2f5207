package io.github.agnosticsam.engine.tensorflow;

import io.github.agnosticsam.spi.Tensors;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;

/** The algebra as graph operands in float32: tracing a step adds its ops to the graph once. */
final class GraphTensors implements Tensors<Operand<TFloat32>> {
    private final Ops tf;
    private final Map<Double, Operand<TFloat32>> constants = new HashMap<>();

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
