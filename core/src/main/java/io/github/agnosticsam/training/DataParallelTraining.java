package io.github.agnosticsam.training;

import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.algorithm.OptimizerProgram;
import io.github.agnosticsam.optim.Optimizer;
import io.github.agnosticsam.spi.Collective;
import io.github.agnosticsam.spi.Collective.CollectiveException;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.spi.support.InProcessCollective;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;

/**
 * A data-parallel training in one process (docs/algorithm.md, "Data-parallel steps"): one
 * network per replica — one per device, or several on one — each stepping its shard of the global
 * batch on a thread of its own, meeting once per step in an {@link InProcessCollective}. A step
 * takes the global batches, exactly those a run of one replica takes; with one network it is
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
 * a new one and {@link #restore} the newest checkpoint. Not thread-safe, like {@link Training}.
 */
public final class DataParallelTraining implements AutoCloseable {
    /** How long a replica waits for the others at the reduce point before the group fails. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(10);

    private final List<Training> replicas;
    private final List<Collective> group;
    private final List<ExecutorService> threads;
    private String broken;
    private boolean closed;

    private DataParallelTraining(List<Training> replicas, List<Collective> group, List<ExecutorService> threads) {
        this.replicas = replicas;
        this.group = group;
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
        if (networks == null || networks.isEmpty() || networks.contains(null)) {
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
            return new DataParallelTraining(List.of(Training.start(first, program, policy)), List.of(), List.of());
        }
        List<HostTensor> parameters = first.parameters();
        List<HostTensor> statistics = first.runningStatistics();
        for (Network n : networks.subList(1, size)) {
            n.setParameters(parameters);
            n.setRunningStatistics(statistics);
        }
        List<Collective> group = InProcessCollective.group(size, timeout);
        List<Training> replicas = new ArrayList<>(size);
        List<ExecutorService> threads = new ArrayList<>(size);
        try {
            for (int r = 0; r < size; r++) {
                replicas.add(Training.replica(networks.get(r), program, policy, group.get(r)));
                int rank = r;
                // One thread per replica for the whole run: an engine may keep per-thread state.
                threads.add(Executors.newSingleThreadExecutor(task -> {
                    Thread t = new Thread(task, "agnostic-sam replica " + rank + " of " + size);
                    t.setDaemon(true);
                    return t;
                }));
            }
        } catch (RuntimeException e) {
            replicas.forEach(Training::close);
            threads.forEach(ExecutorService::shutdownNow);
            group.forEach(Collective::close);
            throw e;
        }
        return new DataParallelTraining(List.copyOf(replicas), group, List.copyOf(threads));
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
        checkUsable();
        int n = replicas.size();
        if (n == 1) {
            return replicas.get(0).step(train, validation);
        }
        replicas.get(0).check(train, validation); // every replica would refuse alike: refused here, nothing ran
        List<Batch> trains = shards(train, "train");
        List<Batch> validations = validation == null ? null : shards(validation, "validation");
        return onEveryReplica(r -> replicas.get(r).step(trains.get(r), validations == null ? null : validations.get(r)))
                .get(0);
    }

    private List<Batch> shards(Batch batch, String role) {
        int n = replicas.size();
        List<Batch> out = new ArrayList<>(n);
        for (int r = 0; r < n; r++) {
            out.add(batch.shard(r, n, role));
        }
        return out;
    }

    /** Runs {@code task} of each replica on its thread; a replica's failure breaks the group and is rethrown. */
    private <R> List<R> onEveryReplica(IntFunction<R> task) {
        int n = replicas.size();
        List<Future<R>> futures = new ArrayList<>(n);
        for (int r = 0; r < n; r++) {
            int rank = r;
            futures.add(threads.get(r).submit(() -> {
                try {
                    return task.apply(rank);
                } catch (NonFiniteStepException e) {
                    throw e; // after the reduce: every replica throws it alike
                } catch (RuntimeException | Error e) {
                    group.get(rank).close(); // the others, waiting at the reduce point, fail now, not at the timeout
                    throw e;
                }
            }));
        }
        List<R> results = new ArrayList<>(n);
        RuntimeException first = null;
        Throwable cause = null;
        int failed = -1;
        for (int r = 0; r < n; r++) {
            try {
                results.add(futures.get(r).get());
            } catch (ExecutionException e) {
                Throwable t = e.getCause();
                // The replica that failed first, not the others that learnt of it at the reduce point.
                if (cause == null || (cause instanceof CollectiveException && !(t instanceof CollectiveException))) {
                    cause = t;
                    failed = r;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                group.forEach(Collective::close);
                broken = "interrupted while the replicas stepped";
                throw new IllegalStateException(broken, e);
            }
        }
        if (cause == null) {
            return results;
        }
        if (cause instanceof NonFiniteStepException && allNonFinite(futures)) {
            throw (NonFiniteStepException) cause; // one verdict: every replica skipped alike, the group is whole
        }
        group.forEach(Collective::close);
        broken = "replica " + failed + " failed: " + cause;
        if (cause instanceof RuntimeException re) {
            throw re;
        }
        if (cause instanceof Error err) {
            throw err;
        }
        throw new IllegalStateException(broken, cause);
    }

    private static <R> boolean allNonFinite(List<Future<R>> futures) {
        for (Future<R> f : futures) {
            try {
                f.get();
                return false;
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof NonFiniteStepException)) {
                    return false;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
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
        checkUsable();
        return replicas.get(0).checkpoint(extra);
    }

    public Checkpoint checkpoint() {
        return checkpoint(Map.of());
    }

    /**
     * Continues every replica from a checkpoint of a run with as many replicas (another number is a
     * {@link CheckpointException} naming both, and nothing changes).
     */
    public void restore(Checkpoint checkpoint) {
        checkUsable();
        replicas.get(0).restore(checkpoint); // checks everything first; the others take the same values
        try {
            for (Training t : replicas.subList(1, replicas.size())) {
                t.restore(checkpoint);
            }
        } catch (RuntimeException e) {
            broken = "restoring a replica failed: " + e;
            group.forEach(Collective::close);
            throw e;
        }
    }

    private void checkUsable() {
        if (closed) {
            throw new IllegalStateException("this DataParallelTraining is closed: start a new one");
        }
        if (broken != null) {
            throw new IllegalStateException("this DataParallelTraining cannot go on (" + broken
                    + "): start a new one and restore the newest checkpoint");
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            replicas.forEach(Training::close);
            group.forEach(Collective::close);
            threads.forEach(ExecutorService::shutdownNow);
        }
    }
}
