package io.github.agnosticsam;

/**
 * A hyperparameter that may change from step to step (a learning rate, a radius ρ). Evaluated in
 * Java before each step and fed to the engine as a tensor, so a graph is traced only once.
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
        if (totalSteps < 1) {
            throw new IllegalArgumentException("totalSteps must be >= 1, got " + totalSteps);
        }
        return step -> base * (1 + Math.cos(Math.PI * step / totalSteps)) / 2;
    }

    /** This schedule multiplied by a factor. */
    default Schedule times(double factor) {
        Schedule self = this;
        return step -> self.at(step) * factor;
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
