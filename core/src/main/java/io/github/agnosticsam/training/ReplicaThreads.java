package io.github.agnosticsam.training;

import io.github.agnosticsam.spi.Collective;
import io.github.agnosticsam.spi.Collective.CollectiveException;
import io.github.agnosticsam.spi.support.InProcessCollective;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * The replicas of a data-parallel training in one process: an {@link InProcessCollective} group and
 * one thread per replica for the whole run (an engine may keep per-thread state), with the rule
 * for failures that every in-process driver shares ({@link DataParallelTraining}, DJL's trainer on
 * several devices). A replica that fails closes its member at once, so the others, waiting at the
 * reduce point, fail then and not at the timeout; one that stalls elsewhere is given the timeout
 * to end after the first failure, and then left behind; the first failure is rethrown, and every
 * later {@link #run} throws IllegalStateException naming it.
 */
public final class ReplicaThreads implements AutoCloseable {
    private final List<Collective> group;
    private final List<ExecutorService> threads;
    private final Duration timeout;
    private String broken;
    private boolean closed;

    private ReplicaThreads(List<Collective> group, List<ExecutorService> threads, Duration timeout) {
        this.group = group;
        this.threads = threads;
        this.timeout = timeout;
    }

    /** A group of {@code size} replicas whose members wait for each other at most {@code timeout}. */
    public static ReplicaThreads start(int size, Duration timeout) {
        List<Collective> group = InProcessCollective.group(size, timeout);
        List<ExecutorService> threads = new ArrayList<>(size);
        for (int r = 0; r < size; r++) {
            int rank = r;
            threads.add(Executors.newSingleThreadExecutor(task -> {
                Thread t = new Thread(task, "agnostic-sam replica " + rank + " of " + size);
                t.setDaemon(true);
                return t;
            }));
        }
        return new ReplicaThreads(group, List.copyOf(threads), timeout);
    }

    /** Replica {@code rank}'s member of the group, for its compiled step. */
    public Collective member(int rank) {
        return group.get(rank);
    }

    public int size() {
        return group.size();
    }

    /**
     * Runs {@code task} of every replica on its thread and returns their results in rank order. A
     * {@link NonFiniteStepException} that every replica throws (one verdict for all: the group is
     * whole) is rethrown as it is; any other failure breaks the group and the first replica's own
     * error is rethrown, not the others' {@link CollectiveException}s.
     */
    public <R> List<R> run(IntFunction<R> task) {
        check();
        int n = size();
        List<Future<R>> futures = new ArrayList<>(n);
        // Ranks in the order their tasks end: after the first failure the others get the group's
        // timeout to end too, so a replica stuck outside the reduce point cannot hang the caller.
        java.util.concurrent.BlockingQueue<Integer> ended = new java.util.concurrent.LinkedBlockingQueue<>();
        for (int r = 0; r < n; r++) {
            int rank = r;
            futures.add(threads.get(r).submit(() -> {
                try {
                    return task.apply(rank);
                } catch (NonFiniteStepException e) {
                    throw e; // after the reduce: every replica throws it alike
                } catch (RuntimeException | Error e) {
                    group.get(rank).close();
                    throw e;
                } finally {
                    ended.add(rank);
                }
            }));
        }
        Throwable cause = null;
        int failed = -1;
        int nonFinite = 0;
        java.util.Set<Integer> running = new java.util.TreeSet<>();
        for (int r = 0; r < n; r++) {
            running.add(r);
        }
        try {
            for (int k = 0; k < n; k++) {
                Integer r = cause == null ? ended.take() : ended.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
                if (r == null) {
                    breakWith("replica " + failed + " failed (" + cause + ") and " + (running.size() == 1
                            ? "replica " : "replicas ") + running.stream().map(String::valueOf)
                            .collect(java.util.stream.Collectors.joining(", ")) + " did not end within " + timeout + " after it");
                    threads.forEach(ExecutorService::shutdownNow);
                    throw new IllegalStateException(broken, cause);
                }
                running.remove(r);
                Throwable t = failure(futures.get(r));
                if (t != null) {
                    nonFinite += t instanceof NonFiniteStepException ? 1 : 0;
                    if (cause == null || (cause instanceof CollectiveException && !(t instanceof CollectiveException))) {
                        cause = t;
                        failed = r;
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            breakWith("interrupted while the replicas ran");
            throw new IllegalStateException(broken, e);
        }
        if (cause == null) {
            List<R> results = new ArrayList<>(n);
            for (Future<R> f : futures) {
                try {
                    results.add(f.get()); // every one has ended
                } catch (InterruptedException | ExecutionException e) {
                    throw new IllegalStateException("a replica's ended task has no result", e);
                }
            }
            return results;
        }
        if (nonFinite == n) {
            throw (NonFiniteStepException) cause;
        }
        breakWith("replica " + failed + " failed: " + cause);
        if (cause instanceof RuntimeException re) {
            throw re;
        }
        if (cause instanceof Error err) {
            throw err;
        }
        throw new IllegalStateException(broken, cause);
    }

    /** What an ended task threw, or null. */
    private static Throwable failure(Future<?> ended) {
        try {
            ended.get();
            return null;
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return e;
        }
    }

    /** Marks the group as unable to go on (a restore that failed half way, say) and closes it. */
    public void breakWith(String reason) {
        if (broken == null) {
            broken = reason;
        }
        group.forEach(Collective::close);
    }

    /** Throws IllegalStateException when closed or broken. */
    public void check() {
        if (closed) {
            throw new IllegalStateException("the replicas are closed: start a new training");
        }
        if (broken != null) {
            throw new IllegalStateException("the replicas cannot go on (" + broken
                    + "): start a new training and restore the newest checkpoint");
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            group.forEach(Collective::close);
            threads.forEach(ExecutorService::shutdownNow);
        }
    }
}
