package io.github.agnosticsam.internal;

import io.github.agnosticsam.HostTensor;
import io.github.agnosticsam.Schedule;
import java.util.Arrays;
import java.util.List;

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

    /**
     * A schedule whose values must be ≥ 0 and float32-holdable: a constant or per-step one is checked
     * now in full, any other at step 0 now and at every step before the step runs.
     */
    public static Schedule nonNegative(String name, Schedule schedule) {
        if (schedule == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        if (schedule instanceof Schedule.Constant c) {
            atLeast(name, c.value(), 0);
        } else if (schedule instanceof Schedule.PerStep p) {
            double[] values = p.values();
            for (int i = 0; i < values.length; i++) {
                atLeast(name + "[" + i + "]", values[i], 0);
            }
        } else if (schedule instanceof Schedule.Cosine c) {
            atLeast(name + " base", c.base(), 0); // its values lie in [0, base]
        } else {
            nonNegativeAt(name, schedule, 0); // the first value now; each step's value before that step
        }
        return schedule;
    }

    /** The value of a schedule at a step, checked to be finite, ≥ 0 and within the float32 range. */
    public static double nonNegativeAt(String name, Schedule schedule, long step) {
        double v = schedule.at(step);
        if (!Double.isFinite(v) || v < 0) {
            throw new IllegalArgumentException(name + " at step " + step + " must be a finite number >= 0, got " + v);
        }
        return float32(name + " at step " + step, v);
    }

    /**
     * Throws an IllegalArgumentException unless {@code values} are one tensor per name, of the
     * given shapes, with only finite elements; the message names the first {@code kind} (and
     * element) that does not fit, e.g. "parameter W0 element 3 (row-major) is NaN".
     */
    public static void finiteTensors(String owner, String kind, List<String> names, List<int[]> shapes,
            List<HostTensor> values) {
        finiteTensors(owner, kind, names, shapes, values, Double.MAX_VALUE);
    }

    /**
     * As above, for an engine whose precision holds magnitudes up to {@code largest} ({@link
     * #FLOAT32_MAX} for float32): a larger element would become ±Inf there, so it is refused too.
     */
    public static void finiteTensors(String owner, String kind, List<String> names, List<int[]> shapes,
            List<HostTensor> values, double largest) {
        if (values == null || values.size() != shapes.size()) {
            throw new IllegalArgumentException(owner + " has " + shapes.size() + " " + kind + " tensors, got "
                    + (values == null ? "null" : values.size()));
        }
        for (int i = 0; i < shapes.size(); i++) {
            if (values.get(i) == null || !Arrays.equals(shapes.get(i), values.get(i).shape())) {
                throw new IllegalArgumentException(kind + " " + names.get(i) + " must have shape "
                        + Arrays.toString(shapes.get(i)) + ", got "
                        + (values.get(i) == null ? "null" : Arrays.toString(values.get(i).shape())));
            }
        }
        for (int i = 0; i < shapes.size(); i++) {
            double[] v = values.get(i).values();
            for (int j = 0; j < v.length; j++) {
                if (!Double.isFinite(v[j])) {
                    throw new IllegalArgumentException(kind + " " + names.get(i) + " element " + j
                            + " (row-major) is " + v[j] + ": it must be a finite number");
                }
                if (Math.abs(v[j]) > largest) {
                    throw new IllegalArgumentException(kind + " " + names.get(i) + " element " + j + " (row-major) is "
                            + v[j] + ": the engine's precision holds magnitudes up to " + largest
                            + (largest == FLOAT32_MAX ? " (float32)" : ""));
                }
            }
        }
    }

    private static String format(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
