package org.example.engine;

import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.spi.Tensors;
import java.util.Arrays;
import java.util.List;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;

/**
 * The step programs' algebra in float64 on host tensors. Java's double arithmetic is IEEE 754, so
 * NaN, ±Inf and −0 behave as the SPI asks without special cases. Every result is a new tensor,
 * except that {@link #where} returns the operand it selects.
 */
final class DoubleAlgebra implements Tensors<HostTensor> {

    @Override
    public HostTensor scalar(double value) {
        return HostTensor.scalar(value);
    }

    @Override
    public HostTensor add(HostTensor a, HostTensor b) {
        return zip(a, b, (x, y) -> x + y);
    }

    @Override
    public HostTensor sub(HostTensor a, HostTensor b) {
        return zip(a, b, (x, y) -> x - y);
    }

    @Override
    public HostTensor mul(HostTensor a, HostTensor b) {
        return zip(a, b, (x, y) -> x * y);
    }

    @Override
    public HostTensor div(HostTensor a, HostTensor b) {
        return zip(a, b, (x, y) -> x / y);
    }

    @Override
    public HostTensor sqrt(HostTensor a) {
        return map(a, Math::sqrt);
    }

    @Override
    public HostTensor abs(HostTensor a) {
        return map(a, Math::abs);
    }

    @Override
    public HostTensor sumOfSquares(HostTensor a) {
        double sum = 0;
        for (double v : a.values()) {
            sum += v * v;
        }
        return HostTensor.scalar(sum);
    }

    @Override
    public HostTensor allFinite(HostTensor a) {
        return HostTensor.scalar(finite(a.values(), 0, a.size()) ? 1 : 0);
    }

    @Override
    public HostTensor where(HostTensor condition, HostTensor a, HostTensor b) {
        double c = scalarValue(condition, "where's condition");
        if (c != 0 && c != 1) {
            throw new IllegalArgumentException("where's condition must be 1 or 0, got " + c);
        }
        return c == 1 ? a : b;
    }

    @Override
    public HostTensor concat(List<HostTensor> tensors) {
        int size = 0;
        for (HostTensor t : tensors) {
            size = Math.addExact(size, t.size());
        }
        double[] out = new double[size];
        int at = 0;
        for (HostTensor t : tensors) {
            System.arraycopy(t.values(), 0, out, at, t.size());
            at += t.size();
        }
        return HostTensor.of(out, size);
    }

    /** Without flat storage the engine never needs it, but it is one loop, and the kit checks it. */
    @Override
    public HostTensor allFiniteSegments(HostTensor flat, int[] lengths) {
        long total = 0;
        for (int length : lengths) {
            total += length;
        }
        if (total != flat.size()) {
            throw new IllegalArgumentException("segments of " + total + " elements in all, the vector has " + flat.size());
        }
        double[] flags = new double[lengths.length];
        int at = 0;
        for (int i = 0; i < lengths.length; i++) {
            flags[i] = finite(flat.values(), at, at + lengths[i]) ? 1 : 0;
            at += lengths[i];
        }
        return HostTensor.of(flags, lengths.length);
    }

    /** Elementwise over operands of one shape, or a rank-0 operand repeated over the other. */
    private static HostTensor zip(HostTensor a, HostTensor b, DoubleBinaryOperator f) {
        boolean aScalar = a.shape().length == 0;
        boolean bScalar = b.shape().length == 0;
        if (!aScalar && !bScalar && !Arrays.equals(a.shape(), b.shape())) {
            throw new IllegalArgumentException("operands of shapes " + Arrays.toString(a.shape()) + " and "
                    + Arrays.toString(b.shape()) + ": expected one shape, or a scalar on either side");
        }
        int[] shape = aScalar ? b.shape() : a.shape();
        double[] x = a.values();
        double[] y = b.values();
        double[] out = new double[aScalar ? y.length : x.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = f.applyAsDouble(aScalar ? x[0] : x[i], bScalar ? y[0] : y[i]);
        }
        return new HostTensor(shape.clone(), out);
    }

    private static HostTensor map(HostTensor a, DoubleUnaryOperator f) {
        double[] x = a.values();
        double[] out = new double[x.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = f.applyAsDouble(x[i]);
        }
        return new HostTensor(a.shape().clone(), out);
    }

    private static boolean finite(double[] values, int from, int to) {
        for (int i = from; i < to; i++) {
            if (!Double.isFinite(values[i])) {
                return false;
            }
        }
        return true;
    }

    private static double scalarValue(HostTensor t, String what) {
        if (t.shape().length != 0) {
            throw new IllegalArgumentException(what + " must be a scalar, got shape " + Arrays.toString(t.shape()));
        }
        return t.values()[0];
    }
}
