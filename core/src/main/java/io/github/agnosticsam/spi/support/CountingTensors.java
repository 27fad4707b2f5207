package io.github.agnosticsam.spi.support;

import io.github.agnosticsam.spi.Tensors;
import java.util.List;

/**
 * An algebra that counts the operations it passes on: each call but {@link #scalar} (a cached
 * constant, no launch) is one engine operation, whatever the engine does inside it.
 */
final class CountingTensors<T> implements Tensors<T> {
    private final Tensors<T> ops;
    private long count;

    CountingTensors(Tensors<T> ops) {
        this.ops = ops;
    }

    long count() {
        return count;
    }

    @Override
    public T scalar(double value) {
        return ops.scalar(value);
    }

    @Override
    public T add(T a, T b) {
        count++;
        return ops.add(a, b);
    }

    @Override
    public T sub(T a, T b) {
        count++;
        return ops.sub(a, b);
    }

    @Override
    public T mul(T a, T b) {
        count++;
        return ops.mul(a, b);
    }

    @Override
    public T div(T a, T b) {
        count++;
        return ops.div(a, b);
    }

    @Override
    public T sqrt(T a) {
        count++;
        return ops.sqrt(a);
    }

    @Override
    public T abs(T a) {
        count++;
        return ops.abs(a);
    }

    @Override
    public T sumOfSquares(T a) {
        count++;
        return ops.sumOfSquares(a);
    }

    @Override
    public T allFinite(T a) {
        count++;
        return ops.allFinite(a);
    }

    @Override
    public T where(T condition, T a, T b) {
        count++;
        return ops.where(condition, a, b);
    }

    @Override
    public T concat(List<T> tensors) {
        count++;
        return ops.concat(tensors);
    }

    @Override
    public T axpy(T a, T x, T y) {
        count++;
        return ops.axpy(a, x, y);
    }

    @Override
    public T allFiniteSegments(T flat, int[] lengths) {
        count++;
        return ops.allFiniteSegments(flat, lengths);
    }
}
