package io.github.agnosticsam.conformance;

import io.github.agnosticsam.optim.Schedule;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Holds one step of a driver inside itself on another thread, so that a test can show what a
 * second thread entering meanwhile gets. The hold is a learning rate whose schedule blocks at
 * step 1 (a schedule runs inside the step, before the engine): build the optimizer with
 * {@link #lr}, take step 0, then {@link #race}.
 */
public final class HeldStep {
    private final CountDownLatch inside = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);
    private final AtomicBoolean armed = new AtomicBoolean();

    /** What the two threads did: the held step's result, and what the second call threw (null: nothing). */
    public record Race<R>(R first, Throwable secondThrew) {
    }

    /** A constant learning rate whose step 1, once {@link #race} armed it, waits until the race lets it go. */
    public Schedule lr(double value) {
        return step -> {
            if (step == 1 && armed.compareAndSet(true, false)) {
                inside.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return value;
        };
    }

    /**
     * Runs {@code first} (step 1) on another thread until it is held inside the step, then
     * {@code second} on this thread, then lets the first finish.
     */
    public <R> Race<R> race(Callable<R> first, Runnable second) throws Exception {
        armed.set(true);
        ExecutorService thread = Executors.newSingleThreadExecutor();
        try {
            Future<R> running = thread.submit(first);
            if (!inside.await(30, TimeUnit.SECONDS)) {
                throw new AssertionError("the first thread never reached step 1's learning rate");
            }
            Throwable thrown = null;
            try {
                second.run();
            } catch (RuntimeException e) {
                thrown = e;
            }
            release.countDown();
            return new Race<>(running.get(30, TimeUnit.SECONDS), thrown);
        } finally {
            release.countDown();
            thread.shutdownNow();
        }
    }
}
