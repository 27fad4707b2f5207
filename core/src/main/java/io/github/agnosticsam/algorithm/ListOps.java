package io.github.agnosticsam.algorithm;

import io.github.agnosticsam.spi.Tensors;
import java.util.ArrayList;
import java.util.List;

/** Element-wise arithmetic on lists of tensors (one tensor per parameter). */
final class ListOps {
    private ListOps() {
    }

    static <T> List<T> plus(Tensors<T> ops, List<T> a, List<T> b) {
        List<T> out = new ArrayList<>(a.size());
        for (int i = 0; i < a.size(); i++) {
            out.add(ops.add(a.get(i), b.get(i)));
        }
        return out;
    }

    /**
     * −a for a scalar: exact, so axpy(−a, x, y) rounds as y − a·x, the form the updates are written
     * in (IEEE 754 defines y − z as y + (−z)).
     */
    static <T> T negate(Tensors<T> ops, T a) {
        return ops.mul(ops.scalar(-1), a);
    }

    /** Global L2 norm over every tensor of the list together. */
    static <T> T norm(Tensors<T> ops, List<T> tensors) {
        T sum = null;
        for (T t : tensors) {
            T s = ops.sumOfSquares(t);
            sum = sum == null ? s : ops.add(sum, s);
        }
        return ops.sqrt(sum);
    }
}
