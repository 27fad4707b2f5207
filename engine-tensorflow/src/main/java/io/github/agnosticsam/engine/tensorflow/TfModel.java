package io.github.agnosticsam.engine.tensorflow;

import io.github.agnosticsam.model.ModelSpec;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Your own model for the TensorFlow engine, written with {@code Ops}: a function from parameter
 * values and a batch of inputs to logits; the loss is softmax cross-entropy (with the description's
 * label smoothing). The engine traces it once per gradient pass of a step and once for evaluation,
 * so it must be a pure function of its arguments. Build it with {@link TfEngine#build(TfModel, List)}.
 */
public interface TfModel {

    /** Input shape, classes, parameter shapes, names and fan-ins, label smoothing. */
    ModelSpec.Custom description();

    /**
     * Logits of the batch at the given parameter values (shapes as {@link #description()}).
     * Normalise with {@link TfLayers#batchNorm}: its running statistics follow the engine's rule (only
     * the clean pass on the train batch updates them; evaluation uses them).
     */
    Operand<TFloat32> logits(Ops tf, List<Operand<TFloat32>> parameters, Operand<TFloat32> input, TfLayers layers);
}
