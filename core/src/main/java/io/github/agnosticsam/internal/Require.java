package io.github.agnosticsam.internal;

import io.github.agnosticsam.Schedule;

/** Hyperparameter checks whose messages name the parameter, its value and the allowed range. */
public final class Require {
    private Require() {
    }

    /** A finite value ≥ min. */
    public static double atLeast(String name, double value, double min) {
        if (!Double.isFinite(value) || value < min) {
            throw new IllegalArgumentException(name + " must be a finite number >= " + format(min) + ", got "
                    + value);
        }
        return value;
    }

    /** A finite value > min. */
    public static double above(String name, double value, double min) {
        if (!Double.isFinite(value) || value <= min) {
            throw new IllegalArgumentException(name + " must be a finite number > " + format(min) + ", got "
                    + value);
        }
        return value;
    }

    /** A finite value in [low, high). */
    public static double inRange(String name, double value, double low, double high) {
        if (!Double.isFinite(value) || value < low || value >= high) {
            throw new IllegalArgumentException(name + " must be a finite number in [" + format(low) + ", "
                    + format(high) + "), got " + value);
        }
        return value;
    }

    /** A schedule whose values must be ≥ 0; a constant one is checked now, others at each step. */
    public static Schedule nonNegative(String name, Schedule schedule) {
        if (schedule == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        if (schedule instanceof Schedule.Constant c) {
            atLeast(name, c.value(), 0);
        }
        return schedule;
    }

    /** The value of a schedule at a step, checked to be finite and ≥ 0. */
    public static double nonNegativeAt(String name, Schedule schedule, long step) {
        double v = schedule.at(step);
        if (!Double.isFinite(v) || v < 0) {
            throw new IllegalArgumentException(name + " at step " + step + " must be a finite number >= 0, got " + v);
        }
        return v;
    }

    private static String format(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
