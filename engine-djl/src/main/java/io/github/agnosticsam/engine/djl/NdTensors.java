package io.github.agnosticsam.engine.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.github.agnosticsam.spi.Tensors;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The algebra on DJL NDArrays in float32, on the network's device. Every result is attached to
 * the current step's scope, whichever manager its operands came from, so a step's scratch arrays
 * are all freed when the step ends. Constants are made once and cached.
 */
final class NdTensors implements Tensors<NDArray> {
    private final NDManager constants;
    private final Map<Double, NDArray> cache = new HashMap<>();
    private NDManager scope;
    private NDArray lastCondition;
    private NDArray lastMask;
    private NDArray zeros;

    NdTensors(NDManager constants) {
        this.constants = constants;
    }

    /** Where the results of the next operations live. */
    void enter(NDManager stepScope) {
        this.scope = stepScope;
        this.lastCondition = null;
        this.lastMask = null;
    }

    NDArray keep(NDArray result) {
        result.attach(scope);
        return result;
    }

    @Override
    public NDArray scalar(double value) {
        return cache.computeIfAbsent(value, v -> constants.create((float) (double) v));
    }

    @Override
    public NDArray add(NDArray a, NDArray b) {
        return keep(a.add(b));
    }

    @Override
    public NDArray sub(NDArray a, NDArray b) {
        return keep(a.sub(b));
    }

    @Override
    public NDArray mul(NDArray a, NDArray b) {
        return keep(a.mul(b));
    }

    @Override
    public NDArray div(NDArray a, NDArray b) {
        return keep(a.div(b));
    }

    @Override
    public NDArray sqrt(NDArray a) {
        return keep(a.sqrt());
    }

    @Override
    public NDArray abs(NDArray a) {
        return keep(a.abs());
    }

    /** One pass and no temporary: a dot product (square-then-sum wrote a full-size array; 2-3x slower). */
    @Override
    public NDArray sumOfSquares(NDArray a) {
        NDArray v = vector(a);
        return keep(v.dot(v));
    }

    /**
     * One pass and no temporary: Σ aᵢ·0 is 0 when every element is finite and NaN otherwise (0·±Inf
     * and 0·NaN are NaN in IEEE 754; a level-1 dot skips no term). The max/min pair it replaces
     * cost two passes and six native calls (measured 80-140 µs against 30-45 µs on 200k floats).
     */
    @Override
    public NDArray allFinite(NDArray a) {
        NDArray v = vector(a);
        NDArray product = keep(v.dot(zeros(v.size())));
        return keep(keep(product.eq(0)).toType(DataType.FLOAT32, false));
    }

    /** {@code a} as a vector: a view of a contiguous array, no copy; dot takes only vectors. */
    private NDArray vector(NDArray a) {
        return a.getShape().dimension() == 1 ? a : keep(a.reshape(-1));
    }

    /**
     * n zeros: a view of the front of one persistent zero vector, grown to the largest size asked
     * for (the largest parameter tensor), so the check costs one parameter tensor of memory at most.
     */
    private NDArray zeros(long n) {
        if (zeros == null || zeros.size() < n) {
            if (zeros != null) {
                zeros.close();
            }
            zeros = constants.zeros(new Shape(n), DataType.FLOAT32);
        }
        return n == zeros.size() ? zeros : keep(zeros.get(new ai.djl.ndarray.index.NDIndex("0:{}", n)));
    }

    @Override
    public NDArray where(NDArray condition, NDArray a, NDArray b) {
        if (condition != lastCondition) {
            lastCondition = condition;
            lastMask = keep(condition.toType(DataType.BOOLEAN, false));
        }
        // DJL's where does not broadcast: expand the scalar mask (a view, no copy).
        return keep(NDArrays.where(keep(lastMask.broadcast(a.getShape())), a, b));
    }

    @Override
    public NDArray concat(List<NDArray> tensors) {
        NDList flat = new NDList(tensors.size());
        for (NDArray t : tensors) {
            flat.add(keep(t.reshape(new Shape(-1))));
        }
        return keep(NDArrays.concat(flat));
    }
}
