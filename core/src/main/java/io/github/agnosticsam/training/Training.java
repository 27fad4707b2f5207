package io.github.agnosticsam.training;

import io.github.agnosticsam.algorithm.OptimizerProgram;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.optim.Adam;
import io.github.agnosticsam.optim.Optimizer;
import io.github.agnosticsam.spi.Collective;
import io.github.agnosticsam.spi.CompiledStep;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.spi.StepProgram;
import java.util.List;
import java.util.Map;

/**
 * An optimizer running on a network: call {@link #step} once per batch. The optimizer state lives
 * on the engine's device. Closing it frees the optimizer state, not the network.
 *
 * <p>Not thread-safe, and it says so rather than corrupting the state: a second thread calling
 * {@link #step} while a step runs gets an IllegalStateException at once, on every engine (the
 * step that runs is not disturbed). Steps from several threads one after another are fine when
 * the threads hand the Training over with the usual happens-before (a lock, a queue).
 *
 * <pre>{@code
 * try (Training training = Training.start(network, optimizer)) {
 *     StepResult r = training.step(trainBatch, validationBatch);
 * }
 * }</pre>
 */
public final class Training implements AutoCloseable {
    private final Network network;
    private final StepLedger ledger;
    private final CompiledStep compiled;
    private final List<StepListener> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile boolean closed;

    private Training(Network network, StepProgram program, BadValuePolicy policy, Collective group) {
        if (network == null || program == null || policy == null) {
            throw new IllegalArgumentException("network, optimizer and policy must not be null");
        }
        this.network = network;
        this.ledger = new StepLedger(program, network.model().parameterNames(), network.model().parameterShapes(),
                policy, group == null ? 1 : group.size());
        this.compiled = network.compile(program, group);
    }

    /** Trains with the bad-value policy THROW. */
    public static Training start(Network network, Optimizer optimizer) {
        return start(network, optimizer, BadValuePolicy.THROW);
    }

    public static Training start(Network network, Optimizer optimizer, BadValuePolicy policy) {
        if (optimizer == null) {
            throw new IllegalArgumentException("optimizer must not be null");
        }
        return new Training(network, OptimizerProgram.of(optimizer), policy, null);
    }

    /**
     * One replica of a data-parallel training (docs/algorithm.md, "Data-parallel steps"): give {@link
     * #step} this replica's shards ({@link Batch#shard}); every replica of {@code group} steps in
     * step, and they meet once per step in {@code group}'s all-reduce. All replicas must start from
     * the same parameters, running statistics and counters. {@link DataParallelTraining} runs the
     * replicas of one process for you; this is for replicas in other processes or machines.
     *
     * @throws io.github.agnosticsam.spi.UnsupportedFeatureException when the engine has no data-parallel steps
     */
    public static Training replica(Network network, Optimizer optimizer, BadValuePolicy policy, Collective group) {
        if (optimizer == null) {
            throw new IllegalArgumentException("optimizer must not be null");
        }
        return replica(network, OptimizerProgram.of(optimizer), policy, group);
    }

    /** One replica of a data-parallel training of a step program of your own (see {@link #start(Network, StepProgram, BadValuePolicy)}). */
    public static Training replica(Network network, StepProgram program, BadValuePolicy policy, Collective group) {
        if (group == null) {
            throw new IllegalArgumentException("group must not be null");
        }
        return new Training(network, program, policy, group);
    }

    /**
     * Trains with a step program of your own (a new sharpness-aware variant, say). Its summary must
     * follow the layout described in {@link StepProgram}.
     */
    public static Training start(Network network, StepProgram program, BadValuePolicy policy) {
        return new Training(network, program, policy, null);
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
     * @throws IllegalStateException when another thread is inside {@code step} of this Training
     */
    public StepResult step(Batch train, Batch validation) {
        return ledger.alone("Training.step", () -> stepAlone(train, validation));
    }

    private StepResult stepAlone(Batch train, Batch validation) {
        double[] scalars = check(train, validation);
        StepResult result = ledger.record(compiled.run(train, validation, scalars));
        listeners.forEach(l -> l.afterStep(result));
        return result;
    }

    /** Tells {@code listener} of every later step (a TensorBoard log, say); returns this Training. */
    public Training listen(StepListener listener) {
        if (listener == null) {
            throw new IllegalArgumentException("listener must not be null");
        }
        listeners.add(listener);
        return this;
    }

    /** The checks of a step, before anything runs; returns its scalar inputs. */
    double[] check(Batch train, Batch validation) {
        checkOpen();
        if (train == null) {
            throw new IllegalArgumentException("train batch must not be null");
        }
        train.checkFits(network.model(), "train");
        StepProgram program = ledger.program();
        if (program.usesValidationBatch()) {
            if (validation == null) {
                throw new IllegalArgumentException("this optimizer needs a validation batch at every step");
            }
            validation.checkFits(network.model(), "validation");
        } else if (validation != null) {
            throw new IllegalArgumentException("this optimizer takes no validation batch (only Agnostic-SAM with "
                    + "rho2 not the constant 0 does); call step(train)");
        }
        return ledger.nextScalars();
    }

    /** Steps run so far (applied or not); the next step's schedule index. */
    public long steps() {
        return ledger.steps();
    }

    /** Steps applied so far (Adam's bias corrections count these). Reads every pending result. */
    public long appliedSteps() {
        return ledger.appliedSteps();
    }

    /** Steps that were not applied because of a non-finite value. Reads every pending result. */
    public long skippedSteps() {
        return ledger.skippedSteps();
    }

    /** The optimizer state, copied to Java memory (a host synchronisation). */
    public List<HostTensor> optimizerState() {
        if (closed) {
            throw new IllegalStateException("this Training is closed: its optimizer state is gone");
        }
        return compiled.state();
    }

    /**
     * Captures everything the next step depends on (see {@link Checkpoint}); write it with
     * {@link Checkpoint#write}. Reads every pending result.
     *
     * @throws IllegalArgumentException when a schedule of the optimizer cannot be written down (a lambda)
     */
    public Checkpoint checkpoint() {
        return checkpoint(Map.of());
    }

    /** As {@link #checkpoint()}, with an application's own metadata entries (its data order, say). */
    public Checkpoint checkpoint(Map<String, String> extra) {
        return ledger.alone("Training.checkpoint", () -> {
            checkOpen();
            return Checkpoint.capture(network, compiled, ledger, extra);
        });
    }

    /**
     * Continues from a checkpoint: parameters, running statistics, optimizer state and step counters
     * become the checkpoint's. A checkpoint of another model or optimizer configuration is a
     * {@link CheckpointException} naming the difference, and nothing changes.
     */
    public void restore(Checkpoint checkpoint) {
        if (checkpoint == null) {
            throw new IllegalArgumentException("checkpoint must not be null");
        }
        ledger.alone("Training.restore", () -> {
            checkOpen();
            checkpoint.restore(network, compiled, ledger);
            return null;
        });
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("this Training is closed: start a new one");
        }
    }

    public Network network() {
        return network;
    }

    public StepProgram program() {
        return ledger.program();
    }

    /** The replicas this training steps among: 1 alone. */
    public int replicas() {
        return ledger.replicas();
    }

    /** The engine operations a step issues, as {@link CompiledStep#operationsPerStep()} counts them. */
    public long operationsPerStep() {
        return compiled.operationsPerStep();
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            compiled.close();
        }
    }
}
