package io.github.agnosticsam.spark;

import io.github.agnosticsam.spi.Collective;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A {@link Collective} among processes or machines: N replicas in a ring over TCP, each sending to
 * the next and receiving from the previous. {@link #allReduceSum} is the bandwidth-optimal ring
 * all-reduce: the buffer in N chunks, N − 1 steps of reduce-scatter then N − 1 of all-gather, so
 * each replica sends and receives 2(N − 1)/N of the buffer whatever N is.
 *
 * <p>Summation order: element i of chunk c is summed ((x_c + x_{c+1}) + x_{c+2}) + … around the
 * ring from rank c — fixed for a given N and buffer length, so a run is deterministic. With two
 * replicas it is bit for bit the in-process group's (rank order: float addition commutes); with
 * more, it is another fixed order than {@code InProcessCollective}'s.
 *
 * <p>Security: a replica accepts only the previous replica of its ring, proved by a challenge and
 * response with the group's shared secret (HMAC-SHA256, both ways, before any data); anything else
 * that connects is refused, logged and counted (each connection gets at most 2 s to prove itself),
 * and the listening port closes as soon as the ring stands. Ports bind to the address given, not
 * to every interface. The data is not encrypted (docs/cluster.md).
 *
 * <p>Faults: every read and every write's completion waits at most the timeout; a peer that died,
 * stalled or sent something else breaks the ring, and this call and every later one throw {@link
 * CollectiveException} naming the peer. Not for calls from several threads at once.
 *
 * <pre>{@code
 * RingCollective.Listener listener = RingCollective.listen(InetAddress.getByName(host));
 * // ... exchange listener.address() with the others (Spark: BarrierTaskContext.allGather) ...
 * try (Collective ring = listener.join(rank, addresses, secret, Duration.ofSeconds(30))) {
 *     Training replica = Training.replica(network, optimizer, policy, ring);
 * }
 * }</pre>
 */
public final class RingCollective implements Collective {
    private static final System.Logger LOG = System.getLogger(RingCollective.class.getName());
    private static final byte[] MAGIC = "agnsam-ring-1".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final int CHALLENGE = 32;
    /** The most a connection may take to prove itself while the ring forms. */
    private static final long HANDSHAKE_MILLIS = 2000;
    private static final java.util.concurrent.ScheduledExecutorService CUT_OFF =
            Executors.newSingleThreadScheduledExecutor(task -> {
                Thread t = new Thread(task, "agnostic-sam ring handshake limit");
                t.setDaemon(true);
                return t;
            });

    private final int rank;
    private final int size;
    private final long timeoutMillis;
    private final Socket next;
    private final Socket previous;
    private final String nextName;
    private final String previousName;
    private final DataOutputStream out;
    private final DataInputStream in;
    private final ExecutorService sender;
    /** The messages of a step, kept from one call to the next (a reduce's buffers are the same size every step). */
    private byte[] outgoing = new byte[0];
    private byte[] incoming = new byte[0];
    private volatile String broken;

    private RingCollective(int rank, int size, long timeoutMillis, Socket next, Socket previous) throws IOException {
        this.rank = rank;
        this.size = size;
        this.timeoutMillis = timeoutMillis;
        this.next = next;
        this.previous = previous;
        this.nextName = next == null ? "" : "rank " + (rank + 1) % size + " at " + next.getRemoteSocketAddress();
        this.previousName = previous == null ? ""
                : "rank " + (rank + size - 1) % size + " at " + previous.getRemoteSocketAddress();
        this.out = next == null ? null : new DataOutputStream(next.getOutputStream()); // one write a message
        this.in = previous == null ? null : new DataInputStream(previous.getInputStream());
        this.sender = next == null ? null : Executors.newSingleThreadExecutor(task -> {
            Thread t = new Thread(task, "agnostic-sam ring rank " + rank + " sender");
            t.setDaemon(true);
            return t;
        });
    }

    /** Binds a listening port on {@code address} (any free port) for one replica of a ring to come. */
    public static Listener listen(InetAddress address) {
        return listen(new InetSocketAddress(address, 0));
    }

    /** Binds a listening port at {@code address}. */
    public static Listener listen(InetSocketAddress address) {
        try {
            ServerSocket server = new ServerSocket();
            server.bind(address, 8);
            return new Listener(server);
        } catch (IOException e) {
            throw new CollectiveException("cannot listen on " + address + ": " + e.getMessage());
        }
    }

    /** One replica's listening port, before the ring is joined: its address goes to the others. */
    public static final class Listener implements AutoCloseable {
        private final ServerSocket server;
        private volatile int refused;

        private Listener(ServerSocket server) {
            this.server = server;
        }

        /** Where the previous replica of the ring connects. */
        public InetSocketAddress address() {
            return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
        }

        /** Stops listening without joining (a failed start, say). */
        @Override
        public void close() {
            try {
                server.close();
            } catch (IOException ignored) {
                // closed either way
            }
        }

        /** The connections refused so far (strangers, wrong secrets, another rank). */
        public int refused() {
            return refused;
        }

        /**
         * Joins the ring as {@code rank} of {@code ring.size()}: connects to the next replica's
         * address, accepts the previous one, both proved with {@code secret} (at least 16 bytes),
         * within {@code timeout}; then stops listening. Every replica passes the same {@code ring}.
         *
         * @throws CollectiveException when the ring does not stand within the timeout, naming who is missing
         */
        public RingCollective join(int rank, List<InetSocketAddress> ring, byte[] secret, Duration timeout) {
            int n = ring == null ? 0 : ring.size();
            if (n < 1 || rank < 0 || rank >= n) {
                throw new IllegalArgumentException("rank " + rank + " of a ring of " + n
                        + " addresses: expected at least one address and 0 <= rank < " + n);
            }
            if (secret == null || secret.length < 16) {
                throw new IllegalArgumentException("the ring's secret must have at least 16 bytes, got "
                        + (secret == null ? "none" : secret.length));
            }
            if (timeout == null || timeout.toMillis() < 1) {
                throw new IllegalArgumentException("the timeout must be at least 1 ms, got " + timeout);
            }
            long deadline = System.nanoTime() + timeout.toNanos();
            try (server) {
                if (n == 1) {
                    return new RingCollective(0, 1, timeout.toMillis(), null, null);
                }
                ExecutorService acceptor = Executors.newSingleThreadExecutor(task -> {
                    Thread t = new Thread(task, "agnostic-sam ring rank " + rank + " acceptor");
                    t.setDaemon(true);
                    return t;
                });
                Future<Socket> previous = acceptor.submit(() -> accept(rank, n, secret, deadline));
                Socket next = null;
                Socket prev = null;
                try {
                    next = connect(rank, n, ring.get((rank + 1) % n), secret, deadline);
                    try {
                        prev = previous.get(Math.max(1, remaining(deadline)) + 1000, TimeUnit.MILLISECONDS);
                    } catch (ExecutionException e) {
                        throw e.getCause() instanceof CollectiveException c ? c
                                : new CollectiveException("rank " + rank + ": " + e.getCause());
                    } catch (java.util.concurrent.TimeoutException e) {
                        throw new CollectiveException("rank " + rank + ": rank " + (rank + n - 1) % n
                                + " did not connect within the timeout");
                    }
                    int millis = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
                    next.setSoTimeout(millis);
                    prev.setSoTimeout(millis);
                    next.setTcpNoDelay(true);
                    next.setSendBufferSize(4 << 20); // keeps the link busy while the receiver adds
                    prev.setReceiveBufferSize(4 << 20);
                    return new RingCollective(rank, n, timeout.toMillis(), next, prev);
                } catch (IOException | RuntimeException | InterruptedException e) {
                    // Nothing half-made stays open: the neighbours see an end of stream, not a timeout.
                    previous.cancel(true);
                    closeQuietly(next);
                    closeQuietly(prev);
                    if (prev == null && previous.isDone() && !previous.isCancelled()) {
                        try {
                            closeQuietly(previous.get());
                        } catch (ExecutionException | java.util.concurrent.CancellationException ignored) {
                            // it accepted nothing
                        }
                    }
                    throw e;
                } finally {
                    acceptor.shutdownNow();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CollectiveException("rank " + rank + ": interrupted while joining the ring");
            } catch (IOException e) {
                throw new CollectiveException("rank " + rank + ": cannot join the ring: " + e.getMessage());
            }
        }

        /** Accepts until the previous rank proves itself; strangers are refused and logged. */
        private Socket accept(int rank, int n, byte[] secret, long deadline) throws IOException {
            int expected = (rank + n - 1) % n;
            while (true) {
                long left = remaining(deadline);
                if (left <= 0) {
                    throw new CollectiveException("rank " + rank + ": rank " + expected + " did not connect within "
                            + "the timeout (" + refused + " connection" + (refused == 1 ? "" : "s") + " refused)");
                }
                server.setSoTimeout((int) Math.min(Integer.MAX_VALUE, left));
                Socket s;
                try {
                    s = server.accept();
                } catch (SocketTimeoutException e) {
                    continue;
                }
                // A connection gets at most HANDSHAKE in all (the socket is closed then, however it
                // drips its bytes), so that strangers cannot hold the ring's forming for long.
                long limit = Math.max(1, Math.min(HANDSHAKE_MILLIS, remaining(deadline)));
                java.util.concurrent.ScheduledFuture<?> cutOff = CUT_OFF.schedule(() -> closeQuietly(s), limit,
                        TimeUnit.MILLISECONDS);
                try {
                    s.setSoTimeout((int) limit);
                    String why = acceptHandshake(s, rank, expected, secret);
                    if (why == null && cutOff.cancel(false)) {
                        return s;
                    }
                    refuse(s, rank, why == null ? "its handshake took more than " + limit + " ms" : why);
                } catch (IOException e) {
                    refuse(s, rank, e.toString());
                } finally {
                    cutOff.cancel(false);
                }
            }
        }

        private void refuse(Socket s, int rank, String why) {
            refused++;
            LOG.log(System.Logger.Level.WARNING, "agnostic-sam ring rank " + rank + " refused a connection from "
                    + s.getRemoteSocketAddress() + ": " + why);
            closeQuietly(s);
        }
    }

    /** Connects to the next rank, retrying until it listens, and proves this rank to it. */
    private static Socket connect(int rank, int n, InetSocketAddress address, byte[] secret, long deadline)
            throws IOException, InterruptedException {
        int to = (rank + 1) % n;
        IOException last = null;
        while (remaining(deadline) > 0) {
            Socket s = new Socket();
            boolean keep = false;
            try {
                s.connect(address, (int) Math.max(1, Math.min(Integer.MAX_VALUE, remaining(deadline))));
                s.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, remaining(deadline))));
                String why = connectHandshake(s, rank, to, secret);
                if (why != null) {
                    throw new CollectiveException("rank " + rank + ": rank " + to + " at " + address
                            + " failed the handshake: " + why);
                }
                keep = true;
                return s;
            } catch (java.net.ConnectException | SocketTimeoutException e) {
                last = e;
                Thread.sleep(20);
            } finally {
                if (!keep) {
                    s.close();
                }
            }
        }
        throw new CollectiveException("rank " + rank + ": cannot reach rank " + to + " at " + address
                + " within the timeout" + (last == null ? "" : " (" + last.getMessage() + ")"));
    }

    /** The connecting side: magic, ranks, challenge; checks the acceptor's proof, then gives its own. */
    private static String connectHandshake(Socket s, int rank, int to, byte[] secret) throws IOException {
        DataOutputStream o = new DataOutputStream(s.getOutputStream());
        DataInputStream i = new DataInputStream(s.getInputStream());
        byte[] mine = challenge();
        o.write(MAGIC);
        o.writeInt(rank);
        o.writeInt(to);
        o.write(mine);
        o.flush();
        byte[] theirs = i.readNBytes(CHALLENGE);
        byte[] proof = i.readNBytes(32);
        if (theirs.length != CHALLENGE || proof.length != 32
                || !MessageDigest.isEqual(proof, mac(secret, "accept", to, rank, mine))) {
            return "it did not prove the ring's secret";
        }
        o.write(mac(secret, "connect", rank, to, theirs));
        o.flush();
        return null;
    }

    /** The accepting side: the magic and ranks, its proof, then the connector's proof; null when it is the previous rank. */
    private static String acceptHandshake(Socket s, int rank, int expected, byte[] secret) throws IOException {
        DataInputStream i = new DataInputStream(s.getInputStream());
        DataOutputStream o = new DataOutputStream(s.getOutputStream());
        byte[] magic = i.readNBytes(MAGIC.length);
        if (!MessageDigest.isEqual(magic, MAGIC)) {
            return "not an agnostic-sam ring peer";
        }
        int from = i.readInt();
        int to = i.readInt();
        if (from != expected || to != rank) {
            return "it says it is rank " + from + " connecting to rank " + to + ", expected rank " + expected
                    + " connecting to rank " + rank;
        }
        byte[] theirs = i.readNBytes(CHALLENGE);
        byte[] mine = challenge();
        o.write(mine);
        o.write(mac(secret, "accept", rank, from, theirs));
        o.flush();
        byte[] proof = i.readNBytes(32);
        if (!MessageDigest.isEqual(proof, mac(secret, "connect", from, rank, mine))) {
            return "it did not prove the ring's secret";
        }
        return null;
    }

    private static byte[] challenge() {
        byte[] c = new byte[CHALLENGE];
        new SecureRandom().nextBytes(c);
        return c;
    }

    private static byte[] mac(byte[] secret, String role, int from, int to, byte[] challenge) {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(new SecretKeySpec(secret, "HmacSHA256"));
            m.update(MAGIC);
            m.update(role.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            m.update(ByteBuffer.allocate(8).putInt(from).putInt(to).array());
            return m.doFinal(challenge);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    private static void closeQuietly(Socket s) {
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closed either way
            }
        }
    }

    private static long remaining(long deadline) {
        return (deadline - System.nanoTime()) / 1_000_000;
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
        reduce(new Floats(buffer));
    }

    @Override
    public void allReduceSum(double[] buffer) {
        reduce(new Doubles(buffer));
    }

    /** The elements of a buffer, as bytes on the wire (little-endian). */
    private interface Elements {
        int length();

        int bytes();

        /** Elements [from, until) into {@code to} from its position on. */
        void put(ByteBuffer to, int from, int until);

        /** Elements [at, until) become (received + element), or the received values themselves. */
        void take(ByteBuffer from, int at, int until, boolean add);
    }

    private record Floats(float[] a) implements Elements {
        public int length() {
            return a.length;
        }

        public int bytes() {
            return Float.BYTES;
        }

        public void put(ByteBuffer to, int from, int until) {
            to.asFloatBuffer().put(a, from, until - from);
        }

        public void take(ByteBuffer from, int at, int until, boolean add) {
            java.nio.FloatBuffer received = from.asFloatBuffer();
            if (!add) {
                received.get(a, at, until - at);
                return;
            }
            for (int i = at; i < until; i++) {
                a[i] = received.get(i - at) + a[i];
            }
        }
    }

    private record Doubles(double[] a) implements Elements {
        public int length() {
            return a.length;
        }

        public int bytes() {
            return Double.BYTES;
        }

        public void put(ByteBuffer to, int from, int until) {
            to.asDoubleBuffer().put(a, from, until - from);
        }

        public void take(ByteBuffer from, int at, int until, boolean add) {
            java.nio.DoubleBuffer received = from.asDoubleBuffer();
            if (!add) {
                received.get(a, at, until - at);
                return;
            }
            for (int i = at; i < until; i++) {
                a[i] = received.get(i - at) + a[i];
            }
        }
    }

    /** Reduce-scatter, then all-gather, chunk by chunk around the ring. */
    private void reduce(Elements e) {
        check();
        if (size == 1) {
            return;
        }
        int n = size;
        try {
            for (int s = 0; s < n - 1; s++) { // reduce-scatter: chunk c gathers x_c, x_{c+1}, ... in ring order
                exchange(e, Math.floorMod(rank - s, n), Math.floorMod(rank - s - 1, n), true);
            }
            for (int s = 0; s < n - 1; s++) { // all-gather: rank r holds the sum of chunk r + 1
                exchange(e, Math.floorMod(rank + 1 - s, n), Math.floorMod(rank - s, n), false);
            }
        } catch (SocketTimeoutException ex) {
            throw fail(previousName + " sent nothing for " + timeoutMillis + " ms (stalled or dead)");
        } catch (IOException ex) {
            throw fail("the link to " + previousName + " or " + nextName + " failed: " + (ex.getMessage() == null
                    ? ex.getClass().getSimpleName() + " (the peer closed it: it died or left)" : ex.getMessage()));
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw fail("interrupted");
        } catch (ExecutionException ex) {
            throw fail("sending to " + nextName + " failed: " + ex.getCause());
        } catch (java.util.concurrent.RejectedExecutionException ex) {
            throw fail("the ring was closed while it reduced");
        }
    }

    /** Sends chunk {@code send} to the next rank while receiving chunk {@code receive} from the previous. */
    private void exchange(Elements e, int send, int receive, boolean add)
            throws IOException, InterruptedException, ExecutionException {
        int sendFrom = start(send, e.length());
        int sendUntil = start(send + 1, e.length());
        int sendBytes = 12 + (sendUntil - sendFrom) * e.bytes();
        if (outgoing.length < sendBytes) {
            outgoing = new byte[sendBytes];
        }
        ByteBuffer message = ByteBuffer.wrap(outgoing, 0, sendBytes).order(ByteOrder.LITTLE_ENDIAN);
        message.putInt(e.length()).putInt(sendUntil - sendFrom).putInt(e.bytes());
        e.put(message.slice().order(ByteOrder.LITTLE_ENDIAN), sendFrom, sendUntil);
        byte[] bytes = outgoing;
        Future<?> sent = sender.submit(() -> {
            out.write(bytes, 0, sendBytes);
            out.flush();
            return null;
        });
        int from = start(receive, e.length());
        int until = start(receive + 1, e.length());
        int theirLength = Integer.reverseBytes(in.readInt());
        int count = Integer.reverseBytes(in.readInt());
        int width = Integer.reverseBytes(in.readInt());
        if (theirLength != e.length() || count != until - from || width != e.bytes()) {
            sent.cancel(true);
            throw fail(previousName + " reduces a buffer of " + theirLength + " elements of " + width
                    + " bytes, this rank one of " + e.length() + " of " + e.bytes()
                    + ": every replica must reduce buffers of the same length and type");
        }
        int receiveBytes = count * e.bytes();
        if (incoming.length < receiveBytes) {
            incoming = new byte[receiveBytes];
        }
        in.readFully(incoming, 0, receiveBytes);
        e.take(ByteBuffer.wrap(incoming, 0, receiveBytes).order(ByteOrder.LITTLE_ENDIAN), from, until, add);
        try { // a next rank that stopped reading leaves the write blocked: bounded like every read
            sent.get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException ex) {
            throw fail(nextName + " took nothing for " + timeoutMillis + " ms (stalled or dead)");
        }
    }

    /** Where chunk {@code c} of a buffer of {@code length} elements starts (chunk {@code size} is its end). */
    private int start(int c, int length) {
        return (int) ((long) c * length / size);
    }

    private void check() {
        if (broken != null) {
            throw new CollectiveException("rank " + rank + ": the ring is broken: " + broken);
        }
    }

    private CollectiveException fail(String why) {
        if (broken == null) {
            broken = why;
            close();
        }
        return new CollectiveException("rank " + rank + " of " + size + ": " + broken);
    }

    /** Leaves the ring: the neighbours' next call fails, naming this rank. */
    @Override
    public void close() {
        if (broken == null) {
            broken = "closed by rank " + rank;
        }
        if (sender != null) {
            sender.shutdownNow();
        }
        for (Socket s : new Socket[] {next, previous}) {
            if (s != null) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // leaving anyway
                }
            }
        }
    }
}
