package io.github.agnosticsam.optim;

import io.github.agnosticsam.internal.Require;

/**
 * A hyperparameter that may change from step to step (a learning rate, a radius ρ). Evaluated in
 * Java before each step and fed to the engine as a tensor, so a graph is traced only once.
 *
 * <p>The schedules made here ({@link Constant}, {@link Cosine}, {@link PerStep}, {@link Scaled})
 * are records: they compare by value and a checkpoint writes them down. A lambda works for
 * training, but a checkpoint of it is refused (it cannot be described or compared).
 */
@FunctionalInterface
public interface Schedule {

    /** The value at step {@code step}, counting from 0. */
    double at(long step);

    static Schedule constant(double value) {
        return new Constant(value);
    }

    /**
     * Cosine annealing from {@code base} to 0 over {@code totalSteps} steps:
     * base·(1 + cos(π·t/T))/2.
     */
    static Schedule cosine(double base, long totalSteps) {
        return new Cosine(base, totalSteps);
    }

    /**
     * One value per step, given in advance (a conformance case's per-step learning rate, say).
     * Asking for a step past the last value is an IllegalArgumentException.
     */
    static Schedule perStep(double... values) {
        return new PerStep(values);
    }

    /** This schedule multiplied by a factor. */
    default Schedule times(double factor) {
        return new Scaled(this, factor);
    }

    /** Cosine annealing from {@code base} to 0 over {@code totalSteps} steps. */
    record Cosine(double base, long totalSteps) implements Schedule {
        public Cosine {
            if (totalSteps < 1) {
                throw new IllegalArgumentException("totalSteps must be >= 1, got " + totalSteps);
            }
        }

        @Override
        public double at(long step) {
            return base * (1 + Math.cos(Math.PI * step / totalSteps)) / 2;
        }
    }

    /** Another schedule multiplied by a factor. */
    record Scaled(Schedule schedule, double factor) implements Schedule {
        public Scaled {
            if (schedule == null) {
                throw new IllegalArgumentException("schedule must not be null");
            }
        }

        @Override
        public double at(long step) {
            return schedule.at(step) * factor;
        }
    }

    /** A value given for each step. */
    record PerStep(double[] values) implements Schedule {
        public PerStep {
            if (values == null || values.length == 0) {
                throw new IllegalArgumentException("a per-step schedule needs at least one value");
            }
            values = values.clone();
        }

        @Override
        public double[] values() {
            return values.clone();
        }

        @Override
        public double at(long step) {
            if (step < 0 || step >= values.length) {
                throw new IllegalArgumentException("the per-step schedule has values for steps 0 to "
                        + (values.length - 1) + ", step " + step + " was asked for");
            }
            return values[(int) step];
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof PerStep p && java.util.Arrays.equals(values, p.values);
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(values);
        }

        @Override
        public String toString() {
            return java.util.Arrays.toString(values);
        }
    }

    /**
     * The value at a step, checked to be finite, ≥ 0 and within the float32 range (an
     * IllegalArgumentException naming {@code name} and the step otherwise): what a step reads.
     */
    default double checkedAt(String name, long step) {
        double v = at(step);
        if (!Double.isFinite(v) || v < 0) {
            throw new IllegalArgumentException(name + " at step " + step + " must be a finite number >= 0, got " + v);
        }
        return Require.float32(name + " at step " + step, v);
    }

    /** A value that never changes. */
    record Constant(double value) implements Schedule {
        @Override
        public double at(long step) {
            return value;
        }

        @Override
        public Schedule times(double factor) {
            return new Constant(value * factor);
        }

        /** True for the constant 0, which lets a step leave out work it would multiply by 0. */
        public boolean isZero() {
            return value == 0;
        }

        @Override
        public String toString() {
            return Double.toString(value);
        }
    }
}
