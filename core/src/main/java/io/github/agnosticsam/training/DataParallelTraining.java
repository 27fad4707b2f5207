package io.github.agnosticsam.training;

import io.github.agnosticsam.algorithm.OptimizerProgram;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.optim.Optimizer;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.spi.StepProgram;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A data-parallel training in one process (docs/algorithm.md, "Data-parallel steps"): one
 * network per replica — one per device, or several on one — each stepping its shard of the global
 * batch on a thread of its own, meeting once per step in an
 * {@link io.github.agnosticsam.spi.support.InProcessCollective}. A step takes the global batches,
 * exactly those a run of one replica takes; with one network it is
 * {@link Training} itself, bit for bit. Closing it frees the optimizer states and threads, not the
 * networks.
 *
 * <pre>{@code
 * try (DataParallelTraining training = DataParallelTraining.start(List.of(net0, net1), optimizer,
 *         BadValuePolicy.SKIP)) {
 *     StepResult r = training.step(trainBatch, validationBatch); // 128 examples: 64 per replica
 * }
 * }</pre>
 *
 * <p>A replica that fails — its engine throws, or it stalls past the timeout — breaks the group:
 * the step throws the replica's own error, and every later call throws IllegalStateException; start
 * a new one and {@link #restore} the newest checkpoint. Not thread-safe, like {@link Training}, and
 * says so: a second thread calling {@link #step} while a step runs gets an IllegalStateException.
 */
public final class DataParallelTraining implements AutoCloseable {
    /** How long a replica waits for the others at the reduce point before the group fails. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(10);

    private final List<Training> replicas;
    /** Null for one replica. */
    private final ReplicaThreads threads;
    /** Two callers' steps would meet their replicas in different orders and pair the wrong shards. */
    private final OneCaller caller = new OneCaller();
    private final List<StepListener> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private boolean closed;

    private DataParallelTraining(List<Training> replicas, ReplicaThreads threads) {
        this.replicas = replicas;
        this.threads = threads;
    }

    /** Starts with the {@link #DEFAULT_TIMEOUT}. */
    public static DataParallelTraining start(List<? extends Network> networks, Optimizer optimizer,
            BadValuePolicy policy) {
        return start(networks, optimizer, policy, DEFAULT_TIMEOUT);
    }

    /**
     * Starts a training of {@code networks.size()} replicas, one network each, all of the same
     * model; the others start from replica 0's parameters and running statistics.
     */
    public static DataParallelTraining start(List<? extends Network> networks, Optimizer optimizer,
            BadValuePolicy policy, Duration timeout) {
        if (optimizer == null) {
            throw new IllegalArgumentException("optimizer must not be null");
        }
        return start(networks, OptimizerProgram.of(optimizer), policy, timeout);
    }

    /** A data-parallel training of a step program of your own, with the {@link #DEFAULT_TIMEOUT}. */
    public static DataParallelTraining start(List<? extends Network> networks, StepProgram program,
            BadValuePolicy policy) {
        return start(networks, program, policy, DEFAULT_TIMEOUT);
    }

    /** A data-parallel training of a step program of your own. */
    public static DataParallelTraining start(List<? extends Network> networks, StepProgram program,
            BadValuePolicy policy, Duration timeout) {
        if (networks == null || networks.isEmpty() || networks.stream().anyMatch(java.util.Objects::isNull)) {
            throw new IllegalArgumentException("a data-parallel training needs at least one network and no null, got "
                    + networks);
        }
        if (program == null || policy == null) {
            throw new IllegalArgumentException("program and policy must not be null");
        }
        Network first = networks.get(0);
        Map<Network, Integer> seen = new IdentityHashMap<>();
        for (int r = 0; r < networks.size(); r++) {
            Network n = networks.get(r);
            Integer before = seen.put(n, r);
            if (before != null) {
                throw new IllegalArgumentException("replicas " + before + " and " + r
                        + " are the same network: each replica needs a network of its own");
            }
            if (!n.model().toString().equals(first.model().toString())) {
                throw new IllegalArgumentException("replica " + r + " is a network of '" + n.model()
                        + "', replica 0 of '" + first.model() + "': every replica holds the same model");
            }
        }
        int size = networks.size();
        if (size == 1) {
            return new DataParallelTraining(List.of(Training.start(first, program, policy)), null);
        }
        ReplicaThreads threads = ReplicaThreads.start(size, timeout);
        List<Training> replicas = new ArrayList<>(size);
        try {
            for (int r = 0; r < size; r++) { // an engine without data-parallel steps refuses here, nothing changed
                replicas.add(Training.replica(networks.get(r), program, policy, threads.member(r)));
            }
            List<HostTensor> parameters = first.parameters();
            List<HostTensor> statistics = first.runningStatistics();
            for (Network n : networks.subList(1, size)) {
                n.setParameters(parameters);
                n.setRunningStatistics(statistics);
            }
        } catch (RuntimeException e) {
            replicas.forEach(Training::close);
            threads.close();
            throw e;
        }
        return new DataParallelTraining(List.copyOf(replicas), threads);
    }

    /** A step of an optimizer that needs no validation batch. */
    public StepResult step(Batch train) {
        return step(train, null);
    }

    /**
     * One step on the global batches: replica r takes the r-th of N equal contiguous shards of each.
     * Checks first (sizes that are not multiples of N are an IllegalArgumentException naming both,
     * and nothing has changed). Returns replica 0's result, which every replica shares: the mean
     * loss of the shards, one verdict.
     *
     * @throws NonFiniteStepException with policy THROW, when a replica met a non-finite value
     */
    public StepResult step(Batch train, Batch validation) {
        return caller.alone("DataParallelTraining.step", () -> stepAlone(train, validation));
    }

    private StepResult stepAlone(Batch train, Batch validation) {
        StepResult result = stepReplicas(train, validation);
        listeners.forEach(l -> l.afterStep(result));
        return result;
    }

    private StepResult stepReplicas(Batch train, Batch validation) {
        checkUsable();
        int n = replicas.size();
        if (n == 1) {
            return replicas.get(0).step(train, validation);
        }
        replicas.get(0).check(train, validation); // every replica would refuse alike: refused here, nothing ran
        List<Batch> trains = shards(train, "train");
        List<Batch> validations = validation == null ? null : shards(validation, "validation");
        return threads.run(r -> replicas.get(r).step(trains.get(r), validations == null ? null : validations.get(r)))
                .get(0);
    }

    /** Tells {@code listener} of every later step (replica 0's result), on the caller's thread; returns this. */
    public DataParallelTraining listen(StepListener listener) {
        if (listener == null) {
            throw new IllegalArgumentException("listener must not be null");
        }
        listeners.add(listener);
        return this;
    }

    private List<Batch> shards(Batch batch, String role) {
        int n = replicas.size();
        List<Batch> out = new ArrayList<>(n);
        for (int r = 0; r < n; r++) {
            out.add(batch.shard(r, n, role));
        }
        return out;
    }

    /** The number of replicas. */
    public int replicas() {
        return replicas.size();
    }

    /** The step program every replica runs. */
    public StepProgram program() {
        return replicas.get(0).program();
    }

    /** Replica {@code r}'s training (its network, its optimizer state). */
    public Training replica(int r) {
        return replicas.get(r);
    }

    /** Steps run so far, applied or not. */
    public long steps() {
        return replicas.get(0).steps();
    }

    /** Steps applied so far. Reads every pending result. */
    public long appliedSteps() {
        return replicas.get(0).appliedSteps();
    }

    /** Steps skipped for a non-finite value. Reads every pending result. */
    public long skippedSteps() {
        return replicas.get(0).skippedSteps();
    }

    /**
     * The run's checkpoint, captured from replica 0: after each step every replica holds the same
     * parameters, running statistics and optimizer state. It records the number of replicas.
     */
    public Checkpoint checkpoint(Map<String, String> extra) {
        return caller.alone("DataParallelTraining.checkpoint", () -> {
            checkUsable();
            return replicas.get(0).checkpoint(extra);
        });
    }

    public Checkpoint checkpoint() {
        return checkpoint(Map.of());
    }

    /**
     * Continues every replica from a checkpoint of a run with as many replicas (another number is a
     * {@link CheckpointException} naming both, and nothing changes).
     */
    public void restore(Checkpoint checkpoint) {
        caller.alone("DataParallelTraining.restore", () -> {
            checkUsable();
            replicas.get(0).restore(checkpoint); // checks everything first; the others take the same values
            try {
                for (Training t : replicas.subList(1, replicas.size())) {
                    t.restore(checkpoint);
                }
            } catch (RuntimeException e) {
                threads.breakWith("restoring a replica failed: " + e);
                throw e;
            }
            return null;
        });
    }

    private void checkUsable() {
        if (closed) {
            throw new IllegalStateException("this DataParallelTraining is closed: start a new one");
        }
        if (threads != null) {
            threads.check();
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            replicas.forEach(Training::close);
            if (threads != null) {
                threads.close();
            }
        }
    }
}
