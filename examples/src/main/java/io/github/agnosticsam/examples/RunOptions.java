package io.github.agnosticsam.examples;

import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.DefaultRadii;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/** The options of one training run, shared by {@code train} and {@code demo}. */
final class RunOptions {
    @Option(names = "--model", paramLabel = "NAME", defaultValue = "mlp", completionCandidates = Names.Models.class,
            description = "Standard model: ${COMPLETION-CANDIDATES} (docs/models.md; default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--rho", paramLabel = "R", description = "Radius of sam (default " + DefaultRadii.RHO + ") and asam ("
            + DefaultRadii.ADAPTIVE_RHO + ").")
    Double rho;

    @Option(names = "--rho1", paramLabel = "R", description = "Train-ascent radius of agnostic-* (default "
            + DefaultRadii.RHO1_PER_RHO2 + " x rho2).")
    Double rho1;

    @Option(names = "--rho2", paramLabel = "R", description = "Validation radius of agnostic-* (default " + DefaultRadii.RHO
            + "; agnostic-asam* " + DefaultRadii.ADAPTIVE_RHO + ").")
    Double rho2;

    @Option(names = "--eta", paramLabel = "E", description = "ASAM's η (default " + DefaultRadii.ETA + ").")
    Double eta;

    @Option(names = "--noise", paramLabel = "P", defaultValue = "0",
            description = "Symmetric label noise: each training label is replaced with probability P by a uniform class (default: ${DEFAULT-VALUE}).")
    double noise;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "0",
            description = "Train on a random subset of N images (default: ${DEFAULT-VALUE} = all).")
    int limit;

    @Option(names = "--epochs", paramLabel = "N", defaultValue = "10", description = "Epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "128", description = "Train batch; the last partial batch of an epoch is dropped (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--val-batch", paramLabel = "N", defaultValue = "32",
            description = "Agnostic-SAM's validation batch, drawn with replacement from the training subset (default: ${DEFAULT-VALUE}).")
    int valBatch;

    @Option(names = "--replicas", paramLabel = "N", defaultValue = "1",
            description = "Data-parallel replicas, each a thread with a network of its own and an equal share of every "
                    + "batch; --batch (and Agnostic-SAM's --val-batch) must be multiples of it (default: ${DEFAULT-VALUE}).")
    int replicas;

    @Option(names = "--lr", paramLabel = "LR", defaultValue = "0.05", description = "Peak learning rate of the per-step cosine schedule (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--momentum", paramLabel = "M", defaultValue = "0.9", description = "SGD momentum (default: ${DEFAULT-VALUE}).")
    double momentum;

    @Option(names = "--weight-decay", paramLabel = "W", defaultValue = "5e-4", description = "Weight decay (default: ${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed of the subset, noise, initialisation and batch order (default: ${DEFAULT-VALUE}).")
    long seed;

    /** Every option's value, for reports. */
    Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", model);
        m.put("rho", rho);
        m.put("rho1", rho1);
        m.put("rho2", rho2);
        m.put("eta", eta);
        m.put("noise", noise);
        m.put("limit", limit);
        m.put("epochs", epochs);
        m.put("batch", batch);
        m.put("valBatch", valBatch);
        m.put("replicas", replicas);
        m.put("lr", lr);
        m.put("momentum", momentum);
        m.put("weightDecay", weightDecay);
        m.put("seed", seed);
        return m;
    }

    void check() {
        positive("--epochs", epochs);
        positive("--batch", batch);
        positive("--val-batch", valBatch);
        positive("--replicas", replicas);
        if (batch % replicas != 0) {
            throw new IllegalArgumentException("--batch " + batch + " is not a multiple of --replicas " + replicas
                    + ": every replica takes an equal share of each batch");
        }
        ImageDataset.checkBatch("--batch", batch);
        ImageDataset.checkBatch("--val-batch", valBatch);
        if (limit < 0) {
            throw new IllegalArgumentException("--limit must be >= 0 (0 = all), got " + limit);
        }
        if (!(noise >= 0 && noise <= 1)) {
            throw new IllegalArgumentException("--noise must be a probability in [0, 1], got " + noise);
        }
        ModelSpec.standard(model);
    }

    private static void positive(String name, int v) {
        if (v < 1) {
            throw new IllegalArgumentException(name + " must be >= 1, got " + v);
        }
    }
}
