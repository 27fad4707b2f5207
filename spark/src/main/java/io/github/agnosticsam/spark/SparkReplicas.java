package io.github.agnosticsam.spark;

import io.github.agnosticsam.spi.Collective;
import java.io.Serializable;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.rdd.RDD;
import scala.Tuple2;
import scala.jdk.javaapi.CollectionConverters;

/**
 * N replicas of a data-parallel training as one Spark barrier stage: Spark places the N tasks at
 * once (one per executor slot, a GPU each when the executors have them) and, when one fails,
 * restarts the whole stage ({@code spark.stage.maxConsecutiveAttempts}). Each task binds a ring
 * port on its executor's address, exchanges the addresses and a share of a fresh per-attempt
 * secret with the others in one {@code allGather} (Spark's barrier calls sleep in a 1 s loop: once
 * per attempt, never per step), joins the {@link RingCollective} and runs the job's replica with
 * it; the stage's result is the replicas' results by rank.
 *
 * <p>A job resumes from its own newest checkpoint when it starts (a retried attempt starts every
 * replica again): see {@link Job}.
 */
public final class SparkReplicas {
    private SparkReplicas() {
    }

    /**
     * One replica's work, run on an executor with the ring of its attempt. It should restore the
     * newest checkpoint its run wrote (replica 0 writes them, on a path every executor sees) before
     * stepping, so that a retried attempt goes on where the failed one stopped.
     */
    @FunctionalInterface
    public interface Job<R extends Serializable> extends Serializable {
        R run(int rank, int replicas, Collective ring) throws Exception;
    }

    /**
     * Runs {@code job} as {@code replicas} replicas of one barrier stage and returns their results
     * in rank order; a replica that fails or stalls past {@code timeout} fails the attempt, and
     * Spark retries the stage as configured.
     */
    public static <R extends Serializable> List<R> run(JavaSparkContext spark, int replicas, Duration timeout,
            Job<R> job) {
        if (spark == null || job == null) {
            throw new IllegalArgumentException("spark and job must not be null");
        }
        if (replicas < 1) {
            throw new IllegalArgumentException("replicas must be >= 1, got " + replicas);
        }
        if (timeout == null || timeout.toMillis() < 1) {
            throw new IllegalArgumentException("the timeout must be at least 1 ms, got " + timeout);
        }
        long millis = timeout.toMillis();
        List<Integer> ranks = new ArrayList<>();
        for (int r = 0; r < replicas; r++) {
            ranks.add(r);
        }
        // Each result with its rank, as a Tuple2: Spark's serializers, Kryo's too, write it.
        RDD<Tuple2<Integer, R>> stage = spark.parallelize(ranks, replicas).rdd().barrier().mapPartitions(
                (scala.Function1<scala.collection.Iterator<Integer>, scala.collection.Iterator<Tuple2<Integer, R>>>
                        & Serializable) partition -> CollectionConverters.asScala(
                                List.of(uncheckedReplica(job, millis)).iterator()),
                false, scala.reflect.ClassTag$.MODULE$.apply(Tuple2.class));
        // A shuffle after the barrier stage makes it a shuffle-map stage, which Spark retries when a
        // task fails; a failed barrier result stage is not retried.
        List<Tuple2<Integer, R>> ranked = new ArrayList<>(stage.toJavaRDD().repartition(1).collect());
        ranked.sort(java.util.Comparator.comparingInt(Tuple2::_1));
        List<R> results = new ArrayList<>(replicas);
        ranked.forEach(r -> results.add(r._2()));
        return results;
    }

    private static <R extends Serializable> Tuple2<Integer, R> uncheckedReplica(Job<R> job, long timeoutMillis) {
        try {
            return new Tuple2<>(BarrierTaskContext.get().partitionId(), replica(job, timeoutMillis));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("replica " + BarrierTaskContext.get().partitionId() + ": " + e, e);
        }
    }

    /** On the executor: rendezvous, ring, the job. */
    private static <R extends Serializable> R replica(Job<R> job, long timeoutMillis) throws Exception {
        BarrierTaskContext context = BarrierTaskContext.get();
        int rank = context.partitionId();
        int replicas = context.getTaskInfos().length;
        String address = context.getTaskInfos()[rank].address();
        InetAddress host = InetAddress.getByName(address.contains(":") ? address.substring(0, address.lastIndexOf(':'))
                : address);
        byte[] share = new byte[32];
        new SecureRandom().nextBytes(share);
        try (RingCollective.Listener listener = RingCollective.listen(host)) {
            InetSocketAddress mine = listener.address();
            String[] all = context.allGather(mine.getAddress().getHostAddress() + " " + mine.getPort() + " "
                    + HexFormat.of().formatHex(share));
            List<InetSocketAddress> ring = new ArrayList<>(replicas);
            MessageDigest secret = sha256();
            for (String peer : all) {
                String[] parts = peer.split(" ");
                ring.add(new InetSocketAddress(InetAddress.getByName(parts[0]), Integer.parseInt(parts[1])));
                secret.update(parts[2].getBytes(StandardCharsets.US_ASCII));
            }
            // The secret is this attempt's: every member's random share. The shares travel through the
            // driver's barrier coordinator, in clear unless spark.network.crypto.enabled is on.
            try (RingCollective collective = listener.join(rank, ring, secret.digest(), Duration.ofMillis(timeoutMillis))) {
                return job.run(rank, replicas, collective);
            }
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
