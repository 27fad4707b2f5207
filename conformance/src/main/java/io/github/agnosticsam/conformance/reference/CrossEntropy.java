package io.github.agnosticsam.conformance.reference;


/**
 * Mean softmax cross-entropy over a batch with label smoothing s, as PyTorch's
 * {@code cross_entropy(..., label_smoothing=s)}: targets (1 − s)·onehot(y) + s/C.
 */
final class CrossEntropy {
    private final int classes;
    private final double smoothing;

    CrossEntropy(int classes, double smoothing) {
        this.classes = classes;
        this.smoothing = smoothing;
    }

    /**
     * The mean loss of {@code logits} ({@code [n·classes]}); when {@code dLogits} is not null,
     * writes ∂loss/∂logits into it.
     */
    double loss(double[] logits, int[] labels, double[] dLogits) {
        int n = labels.length;
        double[] logp = logSoftmax(logits, n);
        double loss = 0;
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < classes; k++) {
                double t = target(labels[i], k);
                loss -= t * logp[i * classes + k];
                if (dLogits != null) {
                    // (softmax − t)/n, because the targets of an example sum to 1.
                    dLogits[i * classes + k] = (Math.exp(logp[i * classes + k]) - t) / n;
                }
            }
        }
        return loss / n;
    }

    private double target(int label, int k) {
        return (k == label ? 1 - smoothing : 0) + smoothing / classes;
    }

    private double[] logSoftmax(double[] logits, int n) {
        double[] out = new double[logits.length];
        for (int i = 0; i < n; i++) {
            // Subtract the row's maximum so that exp cannot overflow.
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < classes; k++) {
                max = Math.max(max, logits[i * classes + k]);
            }
            double sum = 0;
            for (int k = 0; k < classes; k++) {
                sum += Math.exp(logits[i * classes + k] - max);
            }
            double lse = max + Math.log(sum);
            for (int k = 0; k < classes; k++) {
                out[i * classes + k] = logits[i * classes + k] - lse;
            }
        }
        return out;
    }
}
