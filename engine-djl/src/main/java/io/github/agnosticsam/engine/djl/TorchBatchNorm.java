package io.github.agnosticsam.engine.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * Batch normalisation over axis 1 exactly as torch's BatchNorm1d (momentum 0.1, ε 1e-5, affine):
 * it calls torch's own kernel with those constants as doubles. DJL's {@code BatchNorm} calls the
 * same kernel but passes {@code 1 − momentum} computed in float (0.100000024 for 0.9f) and ε as a
 * float, which puts the running mean a few ulps off torch's on nearly every element.
 *
 * <p>In training the output uses the batch's mean and biased variance, and the kernel moves the
 * running mean and variance (the latter with the unbiased batch variance) in place: on the arrays
 * the parameter store hands out, which during a step are the oracle's copies. In evaluation the
 * running statistics are used and left alone.
 */
final class TorchBatchNorm extends AbstractBlock {
    static final double MOMENTUM = 0.1;
    static final double EPSILON = 1e-5;

    private final Parameter gamma;
    private final Parameter beta;
    private final Parameter runningMean;
    private final Parameter runningVar;

    TorchBatchNorm() {
        super((byte) 1);
        gamma = addParameter(Parameter.builder().setName("gamma").setType(Parameter.Type.GAMMA).build());
        beta = addParameter(Parameter.builder().setName("beta").setType(Parameter.Type.BETA).build());
        runningMean = addParameter(Parameter.builder().setName("runningMean").setType(Parameter.Type.RUNNING_MEAN)
                .optRequiresGrad(false).build());
        runningVar = addParameter(Parameter.builder().setName("runningVar").setType(Parameter.Type.RUNNING_VAR)
                .optRequiresGrad(false).build());
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training,
            PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        Device device = x.getDevice();
        PtNDManager manager = (PtNDManager) x.getManager();
        PtNDArray y = JniUtils.batchNorm(manager.from(x),
                manager.from(store.getValue(runningMean, device, training)),
                manager.from(store.getValue(runningVar, device, training)),
                manager.from(store.getValue(gamma, device, training)),
                manager.from(store.getValue(beta, device, training)), training, MOMENTUM, EPSILON);
        return new NDList(y);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void prepare(Shape[] inputShapes) {
        Shape channels = new Shape(inputShapes[0].get(1));
        gamma.setShape(channels);
        beta.setShape(channels);
        runningMean.setShape(channels);
        runningVar.setShape(channels);
    }
}
