package io.github.agnosticsam;

import io.github.agnosticsam.internal.OptimizerProgram;
import io.github.agnosticsam.spi.CompiledStep;
import io.github.agnosticsam.spi.StepProgram;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * An optimizer running on a network: call {@link #step} once per batch. The optimizer state lives
 * on the engine's device. Not thread-safe. Closing it frees the optimizer state, not the network.
 *
 * <pre>{@code
 * try (Training training = Training.start(network, optimizer)) {
 *     StepResult r = training.step(trainBatch, validationBatch);
 * }
 * }</pre>
 */
public final class Training implements AutoCloseable {
    /** Results not read yet; resolved now and then so the skip counter stays current. */
    private static final int MAX_PENDING = 32;

    private final Network network;
    private final StepProgram program;
    private final BadValuePolicy policy;
    private final CompiledStep compiled;
    private final Deque<StepResult> pending = new ArrayDeque<>();
    private long steps;
    private long skipped;

    private Training(Network network, StepProgram program, BadValuePolicy policy) {
        if (network == null || program == null || policy == null) {
            throw new IllegalArgumentException("network, optimizer and policy must not be null");
        }
        this.network = network;
        this.program = program;
        this.policy = policy;
        this.compiled = network.compile(program);
    }

    /** Trains with the bad-value policy THROW. */
    public static Training start(Network network, Optimizer optimizer) {
        return start(network, optimizer, BadValuePolicy.THROW);
    }

    public static Training start(Network network, Optimizer optimizer, BadValuePolicy policy) {
        if (optimizer == null) {
            throw new IllegalArgumentException("optimizer must not be null");
        }
        return new Training(network, OptimizerProgram.of(optimizer), policy);
    }

    /**
     * Trains with a step program of your own (a new sharpness-aware variant, say). Its summary must
     * follow the layout described in {@link StepProgram}.
     */
    public static Training start(Network network, StepProgram program, BadValuePolicy policy) {
        return new Training(network, program, policy);
    }

    /** A step of an optimizer that needs no validation batch (base, SAM, Agnostic-SAM with ρ₂ = 0). */
    public StepResult step(Batch train) {
        return step(train, null);
    }

    /**
     * One step. Checks the inputs and the hyperparameters of this step first: when anything is
     * wrong it throws IllegalArgumentException and nothing has changed.
     *
     * @throws NonFiniteStepException with policy THROW, when a loss or gradient was not finite
     */
    public StepResult step(Batch train, Batch validation) {
        if (train == null) {
            throw new IllegalArgumentException("train batch must not be null");
        }
        train.checkFits(network.model(), "train");
        if (program.usesValidationBatch()) {
            if (validation == null) {
                throw new IllegalArgumentException("this optimizer needs a validation batch at every step");
            }
            validation.checkFits(network.model(), "validation");
        } else if (validation != null) {
            throw new IllegalArgumentException("this optimizer takes no validation batch (only Agnostic-SAM with "
                    + "rho2 not the constant 0 does); call step(train)");
        }
        double[] scalars = program.scalars(steps);
        StepResult result = new StepResult(steps, program.passes(), network.model().parameterNames(),
                compiled.run(train, program.usesValidationBatch() ? validation : null, scalars));
        steps++;
        if (policy == BadValuePolicy.THROW) {
            countIfSkipped(result);
            if (!result.applied()) {
                throw new NonFiniteStepException(result);
            }
        } else {
            pending.addLast(result);
            if (pending.size() > MAX_PENDING) {
                countIfSkipped(pending.removeFirst());
            }
        }
        return result;
    }

    /** Steps run so far (applied or not); the next step's schedule index. */
    public long steps() {
        return steps;
    }

    /** Steps that were not applied because of a non-finite value. Reads every pending result. */
    public long skippedSteps() {
        while (!pending.isEmpty()) {
            countIfSkipped(pending.removeFirst());
        }
        return skipped;
    }

    /** The optimizer state, copied to Java memory (a host synchronisation). */
    public List<HostTensor> optimizerState() {
        return compiled.state();
    }

    public Network network() {
        return network;
    }

    public StepProgram program() {
        return program;
    }

    private void countIfSkipped(StepResult result) {
        if (!result.applied()) {
            skipped++;
        }
    }

    @Override
    public void close() {
        compiled.close();
    }
}
