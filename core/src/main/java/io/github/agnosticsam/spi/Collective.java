package io.github.agnosticsam.spi;

/**
 * One replica's end of a group of {@link #size()} replicas that sum buffers together: the reduce
 * point of a data-parallel step (docs/algorithm.md, "Data-parallel steps"). Every replica calls
 * {@link #allReduceSum} with a buffer of the same length, in the same order of calls; each returns
 * with the element-wise sum over the replicas in place, taken in a fixed order for a given size, so
 * that a run is deterministic: rank order ((x₀ + x₁) + x₂) + … for the in-process group; an
 * implementation that sums otherwise (a ring, from a chunk's own rank) says so.
 *
 * <p>A replica that dies or stalls must not hang the others: a call that waits longer than the
 * group's timeout for a peer, or finds the group broken (a peer closed it or failed), throws
 * {@link CollectiveException}, and so does every later call of every member. Not for calls from
 * several threads at once on one member.
 */
public interface Collective extends AutoCloseable {

    /** This replica's place in the group, 0 to {@code size() - 1}. */
    int rank();

    /** The number of replicas. */
    int size();

    /** Sums {@code buffer} over the replicas, in the group's fixed order, in place. */
    void allReduceSum(float[] buffer);

    /** Sums {@code buffer} over the replicas, in the group's fixed order, in place (for float64 engines). */
    void allReduceSum(double[] buffer);

    /** Leaves the group: a peer waiting for this replica, or calling later, gets a CollectiveException. */
    @Override
    void close();

    /** The group cannot go on: a peer timed out, failed or left; the message names which and why. */
    final class CollectiveException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public CollectiveException(String message) {
            super(message);
        }
    }
}
