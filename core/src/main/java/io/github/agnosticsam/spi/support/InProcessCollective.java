package io.github.agnosticsam.spi.support;

import io.github.agnosticsam.spi.Collective;
import io.github.agnosticsam.spi.Collective.CollectiveException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link Collective} among threads of one process: replicas that share memory. The last replica
 * to arrive at a reduce sums the buffers in rank order and hands the sum to every one; the others
 * wait, each at most the group's timeout.
 */
public final class InProcessCollective {
    private final int size;
    private final long timeoutNanos;
    private final Object lock = new Object();
    /** The buffers of the reduce in progress, by rank (null: not arrived). */
    private final Object[] arrived;
    private int count;
    private long round;
    private String broken;

    private InProcessCollective(int size, Duration timeout) {
        this.size = size;
        this.timeoutNanos = timeout.toNanos();
        this.arrived = new Object[size];
    }

    /**
     * A group of {@code size} members, one per replica thread; a member that waits longer than
     * {@code timeout} for a peer breaks the group.
     */
    public static List<Collective> group(int size, Duration timeout) {
        if (size < 1) {
            throw new IllegalArgumentException("a group needs at least one replica, got " + size);
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the timeout must be positive, got " + timeout);
        }
        InProcessCollective group = new InProcessCollective(size, timeout);
        List<Collective> members = new ArrayList<>(size);
        for (int r = 0; r < size; r++) {
            members.add(group.new Member(r));
        }
        return List.copyOf(members);
    }

    private final class Member implements Collective {
        private final int rank;
        private boolean closed;

        Member(int rank) {
            this.rank = rank;
        }

        @Override
        public int rank() {
            return rank;
        }

        @Override
        public int size() {
            return size;
        }

        @Override
        public void allReduceSum(float[] buffer) {
            reduce(buffer, buffer == null ? -1 : buffer.length);
        }

        @Override
        public void allReduceSum(double[] buffer) {
            reduce(buffer, buffer == null ? -1 : buffer.length);
        }

        private void reduce(Object buffer, int length) {
            if (buffer == null) {
                throw new IllegalArgumentException("rank " + rank + ": the buffer must not be null");
            }
            synchronized (lock) {
                if (closed) {
                    throw new CollectiveException("rank " + rank + " has left the group");
                }
                check();
                if (size == 1) {
                    return; // the sum of one buffer is itself, bit for bit
                }
                Object first = firstArrived();
                if (first != null && (first.getClass() != buffer.getClass() || java.lang.reflect.Array.getLength(first)
                        != length)) {
                    fail("rank " + rank + " reduces " + describe(buffer) + ", a peer " + describe(first));
                }
                arrived[rank] = buffer;
                count++;
                long mine = round;
                if (count == size) {
                    sumIntoEvery();
                    return;
                }
                long deadline = System.nanoTime() + timeoutNanos;
                while (round == mine && broken == null) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        fail("rank " + rank + " waited " + Duration.ofNanos(timeoutNanos).toMillis() + " ms for "
                                + missing() + " at a reduce");
                    }
                    try {
                        lock.wait(Math.max(1, left / 1_000_000));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        fail("rank " + rank + " was interrupted while waiting at a reduce");
                    }
                }
                if (round == mine) {
                    check();
                }
            }
        }

        @Override
        public void close() {
            synchronized (lock) {
                if (!closed) {
                    closed = true;
                    if (broken == null && size > 1) {
                        broken = "rank " + rank + " left the group";
                        lock.notifyAll();
                    }
                }
            }
        }
    }

    /** Sums the arrived buffers in rank order and writes the sum into each; the next round begins. */
    private void sumIntoEvery() {
        if (arrived[0] instanceof float[] first) {
            float[] sum = first.clone();
            for (int r = 1; r < size; r++) {
                float[] b = (float[]) arrived[r];
                for (int i = 0; i < sum.length; i++) {
                    sum[i] += b[i];
                }
            }
            for (Object b : arrived) {
                System.arraycopy(sum, 0, b, 0, sum.length);
            }
        } else {
            double[] sum = ((double[]) arrived[0]).clone();
            for (int r = 1; r < size; r++) {
                double[] b = (double[]) arrived[r];
                for (int i = 0; i < sum.length; i++) {
                    sum[i] += b[i];
                }
            }
            for (Object b : arrived) {
                System.arraycopy(sum, 0, b, 0, sum.length);
            }
        }
        java.util.Arrays.fill(arrived, null);
        count = 0;
        round++;
        lock.notifyAll();
    }

    private Object firstArrived() {
        for (Object b : arrived) {
            if (b != null) {
                return b;
            }
        }
        return null;
    }

    private String missing() {
        List<Integer> ranks = new ArrayList<>();
        for (int r = 0; r < size; r++) {
            if (arrived[r] == null) {
                ranks.add(r);
            }
        }
        return (ranks.size() == 1 ? "rank " : "ranks ") + ranks.toString().replaceAll("[\\[\\]]", "");
    }

    private static String describe(Object buffer) {
        return java.lang.reflect.Array.getLength(buffer) + " " + (buffer instanceof float[] ? "floats" : "doubles");
    }

    /** Throws, unless the group is whole. */
    private void check() {
        if (broken != null) {
            throw new CollectiveException("the replica group is broken: " + broken);
        }
    }

    /** Breaks the group for every member, and throws. */
    private void fail(String why) {
        broken = why;
        lock.notifyAll();
        throw new CollectiveException("the replica group is broken: " + why);
    }
}
