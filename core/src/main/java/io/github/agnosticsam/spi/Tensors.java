package io.github.agnosticsam.spi;

import java.util.List;

/**
 * The tensor algebra the SAM family needs, over an engine's opaque handle type {@code T}: an
 * NDArray for an eager engine, a graph operand for a graph engine. Nothing here reads a value
 * back into Java, so a whole step can be traced into a graph.
 *
 * <p>Binary operations take two tensors of the same shape, or a tensor and a scalar (rank 0) on
 * either side. Inputs are never changed, and nothing writes into a result, so a result may be an
 * input as it is (an eager {@link #where} may return the operand it selects). "Scalar" below means
 * rank 0.
 */
public interface Tensors<T> {

    /** A scalar constant in the engine's floating-point type. */
    T scalar(double value);

    T add(T a, T b);

    T sub(T a, T b);

    T mul(T a, T b);

    T div(T a, T b);

    /**
     * {@code a·x + y} for a scalar {@code a} and {@code x}, {@code y} of one shape: the multiply-add
     * of every update and ascent. The default is {@code add(mul(a, x), y)}; an engine may
     * add {@code y} into its own product in place, keeping those two roundings (the core's results
     * are specified with them; a fused kernel that rounds once differs in the last bit), with 0·±Inf
     * and 0·NaN NaN as in mul, also for a = 0, and never writing into {@code x} or {@code y}.
     */
    default T axpy(T a, T x, T y) {
        return add(mul(a, x), y);
    }

    T sqrt(T a);

    T abs(T a);

    /** Σ aᵢ² over all elements, as a scalar. */
    T sumOfSquares(T a);

    /** Scalar 1 when every element is finite (no NaN, no ±Inf), else scalar 0. */
    T allFinite(T a);

    /** Elementwise {@code condition ? a : b} for a scalar condition that is exactly 1 or 0. */
    T where(T condition, T a, T b);

    /** The elements of every tensor, each flattened row-major, one after another in a vector. */
    T concat(List<T> tensors);

    /**
     * For consecutive segments of {@code flat} (flattened row-major; segment i is the next {@code
     * lengths[i]} elements, the lengths summing to its size): a vector of one 1/0 flag per segment, 1
     * when every element of that segment is finite. It is how a step over {@link
     * StepProgram#defineFlat flat storage} still names the parameter that went bad. An engine whose
     * networks keep flat storage implements it, in a number of operations that does not grow with
     * the number of segments; the default refuses.
     *
     * @throws UnsupportedFeatureException when the engine has no flat storage
     */
    default T allFiniteSegments(T flat, int[] lengths) {
        throw new UnsupportedFeatureException("allFiniteSegments: this engine's algebra (" + getClass().getName()
                + ") has no flat storage");
    }
}
