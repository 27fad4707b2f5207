package io.github.agnosticsam.conformance;

import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Seeded initial parameters and batches (16 train, 4 validation examples a step). */
final class Data {
    private final long seed;
    private final List<Batch> train = new ArrayList<>();
    private final List<Batch> validation = new ArrayList<>();

    Data(long seed) {
        this(seed, 4);
    }

    /** Batches for {@code steps} steps; the first four are those of {@code new Data(seed)}. */
    Data(long seed, int steps) {
        this.seed = seed;
        SplittableRandom random = new SplittableRandom(seed);
        for (int s = 0; s < steps; s++) {
            train.add(batch(random, 16));
            validation.add(batch(random, 4));
        }
    }

    private static Batch batch(SplittableRandom random, int n) {
        double[] x = new double[n * 6];
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextDouble(-2, 2);
        }
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = random.nextInt(4);
        }
        return new Batch(HostTensor.of(x, n, 6), y);
    }

    List<HostTensor> init() {
        return Kit.MODEL.initialParameters(seed);
    }

    Batch train(int step) {
        return train.get(step);
    }

    Batch validation(int step) {
        return validation.get(step);
    }
}
