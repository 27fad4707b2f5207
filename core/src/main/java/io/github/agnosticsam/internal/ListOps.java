package io.github.agnosticsam.internal;

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
