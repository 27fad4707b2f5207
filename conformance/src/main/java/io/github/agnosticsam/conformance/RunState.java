package io.github.agnosticsam.conformance;

import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.training.Checkpoint;
import io.github.agnosticsam.training.Training;
import java.util.List;

/** Everything the next step of a run depends on. */
record RunState(List<HostTensor> parameters, List<HostTensor> statistics, List<HostTensor> state,
        List<Long> counters) {
    static RunState of(Training t) {
        return new RunState(t.network().parameters(), t.network().runningStatistics(), t.optimizerState(),
                List.of(t.steps(), t.appliedSteps(), t.skippedSteps()));
    }

    static RunState of(Checkpoint c) {
        return new RunState(c.parameters(), c.runningStatistics(), c.optimizerState(),
                List.of(c.steps(), c.appliedSteps(), c.skippedSteps()));
    }
}
