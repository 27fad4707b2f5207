package io.github.agnosticsam.conformance.reference;

import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.spi.UnsupportedFeatureException;
import java.util.List;

/**
 * The math of one model description in float64, as PyTorch computes it: forward pass, hand-derived
 * backward pass and BatchNorm's running statistics. Implementations hold no state between calls
 * and never change their arguments; which pass may move the statistics, and when they are
 * committed, is the caller's business.
 */
interface HostModel {

    /**
     * Mean loss (softmax cross-entropy with the model's label smoothing) and its gradient with
     * respect to every parameter, in training mode: BatchNorm normalises with the batch's
     * statistics. With {@code updateStatistics}, also the running statistics this batch moves
     * {@code statistics} to.
     *
     * @param params one tensor per parameter, in the model's order
     * @param statistics the current running statistics in {@link ModelSpec#statisticNames()} order
     *     (empty for a model without them); read only when {@code updateStatistics}
     */
    Gradients lossAndGradients(List<HostTensor> params, List<HostTensor> statistics, Batch batch,
            boolean updateStatistics);

    /** The logits, {@code [n·classes]} row-major, in evaluation mode: BatchNorm uses {@code statistics}. */
    double[] logits(List<HostTensor> params, List<HostTensor> statistics, Batch batch);

    /**
     * What {@link #lossAndGradients} returns. {@code statistics} are the new running statistics
     * when they were asked for (empty for a model without them), else empty.
     */
    record Gradients(double loss, List<HostTensor> gradients, List<HostTensor> statistics) {
        public Gradients {
            gradients = List.copyOf(gradients);
            statistics = List.copyOf(statistics);
        }
    }

    /** The math of a model description; the reference engine builds MLPs (with or without BatchNorm), CNNs and residual CNNs. */
    static HostModel of(ModelSpec spec) {
        if (spec instanceof ModelSpec.Mlp mlp) {
            return new MlpMath(mlp);
        }
        if (spec instanceof ModelSpec.Cnn cnn) {
            return new CnnMath(cnn);
        }
        if (spec instanceof ModelSpec.ResNet resnet) {
            return new ResNetMath(resnet);
        }
        throw new UnsupportedFeatureException("the reference engine builds only mlp, cnn and resnet models, not " + spec);
    }
}
