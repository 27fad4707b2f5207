package io.github.agnosticsam.conformance;

import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import java.util.SplittableRandom;

/** Seeded batches for any model that an engine's own tests can learn from quickly. */
public final class SyntheticBatches {
    private SyntheticBatches() {
    }

    /**
     * {@code n} examples shaped for {@code model}: uniform noise in [0, 0.5) plus 0.5 on every input
     * element whose index modulo the number of classes is the example's class.
     */
    public static Batch learnable(ModelSpec model, int n, SplittableRandom random) {
        int width = 1;
        for (int d : model.inputShape()) {
            width *= d;
        }
        int[] shape = new int[model.inputShape().length + 1];
        shape[0] = n;
        System.arraycopy(model.inputShape(), 0, shape, 1, model.inputShape().length);
        double[] x = new double[n * width];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = random.nextInt(model.classes());
            for (int j = 0; j < width; j++) {
                x[i * width + j] = random.nextDouble() * 0.5 + (j % model.classes() == y[i] ? 0.5 : 0);
            }
        }
        return new Batch(new HostTensor(shape, x), y);
    }
}
