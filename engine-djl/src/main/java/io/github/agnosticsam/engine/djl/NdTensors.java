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

    @Override
    public NDArray sumOfSquares(NDArray a) {
        NDArray squares = keep(a.square());
        return keep(squares.sum());
    }

    @Override
    public NDArray allFinite(NDArray a) {
        // Two reductions and no full-size temporary: the max is NaN or +Inf, or the min is NaN or
        // -Inf, exactly when an element is not finite (torch's max and min propagate NaN).
        NDArray belowInfinity = keep(keep(a.max()).lt(Float.POSITIVE_INFINITY));
        NDArray aboveMinusInfinity = keep(keep(a.min()).gt(Float.NEGATIVE_INFINITY));
        return keep(keep(belowInfinity.logicalAnd(aboveMinusInfinity)).toType(DataType.FLOAT32, false));
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
