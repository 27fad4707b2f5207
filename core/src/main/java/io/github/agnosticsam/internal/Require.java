package io.github.agnosticsam.internal;

/**
 * Hyperparameter checks whose messages name the parameter, its value and the allowed range. Every
 * value must also be one float32 can hold: engines compute in float32, where a magnitude above
 * {@link Float#MAX_VALUE} becomes ±Inf (so it is refused here, not met as a non-finite step).
 */
public final class Require {
    /** The largest magnitude a hyperparameter may have: the largest finite float32. */
    public static final double FLOAT32_MAX = Float.MAX_VALUE;

    private Require() {
    }

    /** Refuses a magnitude that float32 would round to ±Inf. */
    public static double float32(String name, double value) {
        if (Math.abs(value) > FLOAT32_MAX) {
            throw new IllegalArgumentException(name + " must be at most " + FLOAT32_MAX + " in magnitude (the "
                    + "largest float32: engines compute in float32), got " + value);
        }
        return value;
    }

    /** A finite value ≥ min. */
    public static double atLeast(String name, double value, double min) {
        if (!Double.isFinite(value) || value < min) {
            throw new IllegalArgumentException(name + " must be a finite number >= " + format(min) + ", got "
                    + value);
        }
        return float32(name, value);
    }

    /** A finite value > min. */
    public static double above(String name, double value, double min) {
        if (!Double.isFinite(value) || value <= min) {
            throw new IllegalArgumentException(name + " must be a finite number > " + format(min) + ", got "
                    + value);
        }
        return float32(name, value);
    }

    /** A finite value in [low, high). */
    public static double inRange(String name, double value, double low, double high) {
        if (!Double.isFinite(value) || value < low || value >= high) {
            throw new IllegalArgumentException(name + " must be a finite number in [" + format(low) + ", "
                    + format(high) + "), got " + value);
        }
        return float32(name, value);
    }

    /** A bound as a message shows it: 0, not 0.0. */
    private static String format(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
