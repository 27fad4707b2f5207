package io.github.agnosticsam.engine.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;

/** The mean loss of a batch from its labels and the network's predictions; DJL's {@code Loss::evaluate} fits. */
@FunctionalInterface
public interface LossFunction {
    NDArray evaluate(NDList labels, NDList predictions);

    /**
     * Mean softmax cross-entropy of logits against integer labels, with label smoothing s: targets
     * (1 − s)·onehot(y) + s/C, as torch's {@code cross_entropy(label_smoothing=s)}.
     */
    static LossFunction softmaxCrossEntropy(double labelSmoothing) {
        return (labels, predictions) -> {
            NDArray logits = predictions.singletonOrThrow();
            long classes = logits.getShape().get(1);
            NDArray logProbabilities = logits.logSoftmax(1);
            NDArray targets = labels.singletonOrThrow().oneHot((int) classes);
            if (labelSmoothing != 0) {
                targets = targets.mul((float) (1 - labelSmoothing)).add((float) (labelSmoothing / classes));
            }
            return targets.mul(logProbabilities).sum(new int[] {1}).mean().neg();
        };
    }
}
