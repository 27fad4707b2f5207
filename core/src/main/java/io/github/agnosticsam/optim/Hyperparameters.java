package io.github.agnosticsam.optim;

import io.github.agnosticsam.internal.Require;

/** The checks the optimizers' builders share for their schedules. */
final class Hyperparameters {
    private Hyperparameters() {
    }

    /**
     * A schedule whose values must be ≥ 0 and float32-holdable: a constant or per-step one is checked
     * now in full, any other at step 0 now and at every step before the step runs.
     */
    static Schedule nonNegative(String name, Schedule schedule) {
        if (schedule == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        if (schedule instanceof Schedule.Constant c) {
            Require.atLeast(name, c.value(), 0);
        } else if (schedule instanceof Schedule.PerStep p) {
            double[] values = p.values();
            for (int i = 0; i < values.length; i++) {
                Require.atLeast(name + "[" + i + "]", values[i], 0);
            }
        } else if (schedule instanceof Schedule.Cosine c) {
            Require.atLeast(name + " base", c.base(), 0); // its values lie in [0, base]
        } else {
            schedule.checkedAt(name, 0); // the first value now; each step's value before that step
        }
        return schedule;
    }
}
