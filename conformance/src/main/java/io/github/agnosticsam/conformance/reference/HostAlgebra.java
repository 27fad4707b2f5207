package io.github.agnosticsam.conformance.reference;

import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.spi.Tensors;
import java.util.Arrays;
import java.util.List;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;

/** The tensor algebra on Java arrays in float64. */
final class HostAlgebra implements Tensors<HostTensor> {

    @Override
    public HostTensor scalar(double value) {
        return HostTensor.scalar(value);
    }

    @Override
    public HostTensor add(HostTensor a, HostTensor b) {
        return zip(a, b, Double::sum);
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
        double s = 0;
        for (double v : a.values()) {
            s += v * v;
        }
        return HostTensor.scalar(s);
    }

    @Override
    public HostTensor allFinite(HostTensor a) {
        for (double v : a.values()) {
            if (!Double.isFinite(v)) {
                return HostTensor.scalar(0);
            }
        }
        return HostTensor.scalar(1);
    }

    @Override
    public HostTensor allFiniteSegments(HostTensor flat, int[] lengths) {
        double[] flags = new double[lengths.length];
        int at = 0;
        for (int i = 0; i < lengths.length; i++) {
            flags[i] = allFinite(HostTensor.of(java.util.Arrays.copyOfRange(flat.values(), at, at + lengths[i]),
                    lengths[i])).values()[0];
            at += lengths[i];
        }
        if (at != flat.size()) {
            throw new IllegalArgumentException("segments of " + at + " elements in all, the vector has " + flat.size());
        }
        return HostTensor.of(flags, flags.length);
    }

    @Override
    public HostTensor where(HostTensor condition, HostTensor a, HostTensor b) {
        if (condition.shape().length != 0) {
            throw new IllegalArgumentException("where needs a scalar condition, got " + condition);
        }
        return condition.values()[0] != 0 ? a : b;
    }

    @Override
    public HostTensor concat(List<HostTensor> tensors) {
        int total = tensors.stream().mapToInt(HostTensor::size).sum();
        double[] out = new double[total];
        int at = 0;
        for (HostTensor t : tensors) {
            System.arraycopy(t.values(), 0, out, at, t.size());
            at += t.size();
        }
        return HostTensor.of(out, total);
    }

    private static HostTensor map(HostTensor a, DoubleUnaryOperator f) {
        double[] out = new double[a.size()];
        double[] x = a.values();
        for (int i = 0; i < out.length; i++) {
            out[i] = f.applyAsDouble(x[i]);
        }
        return new HostTensor(a.shape(), out);
    }

    private static HostTensor zip(HostTensor a, HostTensor b, DoubleBinaryOperator f) {
        double[] x = a.values();
        double[] y = b.values();
        boolean aScalar = a.shape().length == 0;
        boolean bScalar = b.shape().length == 0;
        if (!aScalar && !bScalar && !Arrays.equals(a.shape(), b.shape())) {
            throw new IllegalArgumentException("shapes " + Arrays.toString(a.shape()) + " and "
                    + Arrays.toString(b.shape()) + " differ and neither is a scalar");
        }
        int[] shape = aScalar ? b.shape() : a.shape();
        double[] out = new double[Math.max(x.length, y.length)];
        for (int i = 0; i < out.length; i++) {
            out[i] = f.applyAsDouble(x[aScalar ? 0 : i], y[bScalar ? 0 : i]);
        }
        return new HostTensor(shape, out);
    }
}
