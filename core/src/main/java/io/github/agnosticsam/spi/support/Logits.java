package io.github.agnosticsam.spi.support;

import io.github.agnosticsam.model.Evaluation;
import io.github.agnosticsam.model.ModelSpec;

/**
 * What {@link io.github.agnosticsam.spi.Network#evaluate} reports, computed once for every engine from
 * the logits: the mean softmax cross-entropy with the model's label smoothing (the training loss),
 * in double, and the argmax predictions that match the labels (the first class wins a tie).
 */
public final class Logits {
    private Logits() {
    }

    /** Mean loss and correct predictions, for {@code [n·classes]} logits in row-major order. */
    public static Evaluation evaluate(ModelSpec model, double[] logits, int[] labels) {
        int classes = model.classes();
        double smoothing = model.labelSmoothing();
        if (logits.length != labels.length * classes) {
            throw new IllegalArgumentException("expected " + labels.length + "×" + classes + " logits, got "
                    + logits.length);
        }
        double lossSum = 0;
        int correct = 0;
        for (int i = 0; i < labels.length; i++) {
            int best = 0;
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < classes; k++) {
                double z = logits[i * classes + k];
                if (z > max || k == 0) {
                    max = z;
                    best = k;
                }
            }
            double sum = 0;
            for (int k = 0; k < classes; k++) {
                sum += Math.exp(logits[i * classes + k] - max);
            }
            double logSum = max + Math.log(sum);
            for (int k = 0; k < classes; k++) {
                double target = (k == labels[i] ? 1 - smoothing : 0) + smoothing / classes;
                lossSum -= target * (logits[i * classes + k] - logSum);
            }
            correct += best == labels[i] ? 1 : 0;
        }
        return new Evaluation(lossSum / labels.length, correct, labels.length);
    }
}
