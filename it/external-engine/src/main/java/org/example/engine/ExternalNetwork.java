package org.example.engine;

import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.spi.Pass;
import io.github.agnosticsam.spi.Tensors;
import io.github.agnosticsam.spi.support.EagerNetwork;
import io.github.agnosticsam.spi.support.Gradients;
import java.util.ArrayList;
import java.util.List;

/**
 * An MLP on the external engine. The "device" is Java memory: a tensor is a {@link HostTensor},
 * a batch is itself, scopes have nothing to free, and storing copies a value into a parameter's
 * array. {@link EagerNetwork} runs the step programs over these primitives.
 */
final class ExternalNetwork extends EagerNetwork<HostTensor, Batch> {
    private static final DoubleAlgebra OPS = new DoubleAlgebra();

    private final MlpPasses passes;
    /** One array per parameter, written in place by {@link #store}. */
    private final List<HostTensor> parameters = new ArrayList<>();

    ExternalNetwork(ModelSpec.Mlp spec, List<HostTensor> initialParameters) {
        super(spec);
        this.passes = new MlpPasses(spec);
        for (int[] shape : spec.parameterShapes()) {
            parameters.add(HostTensor.zeros(shape));
        }
        setParameters(initialParameters); // checks shapes and finiteness first
    }

    /** float64: any finite value. */
    @Override
    protected double largestValue() {
        return Double.MAX_VALUE;
    }

    @Override
    protected Tensors<HostTensor> ops() {
        return OPS;
    }

    @Override
    protected List<HostTensor> parameterTensors() {
        return parameters;
    }

    @Override
    protected HostTensor allocate(HostTensor value) {
        return value.copy();
    }

    /** Only read until {@link #store} copies it, so the caller's tensor serves as it is. */
    @Override
    protected HostTensor upload(HostTensor value) {
        return value;
    }

    @Override
    protected Batch upload(Batch batch) {
        return batch;
    }

    @Override
    protected void store(HostTensor target, HostTensor value) {
        System.arraycopy(value.values(), 0, target.values(), 0, target.size());
    }

    @Override
    protected HostTensor download(HostTensor tensor) {
        return tensor.copy();
    }

    @Override
    protected Scope openScope() {
        return () -> { }; // the garbage collector frees scratch tensors
    }

    /** A copy: the summary may be a tensor that a later {@link #store} overwrites. */
    @Override
    protected HostTensor retain(HostTensor scratch) {
        return scratch.copy();
    }

    @Override
    protected void release(HostTensor retained) {
        // Java memory: nothing to free.
    }

    @Override
    protected Gradients<HostTensor> gradients(List<HostTensor> values, List<HostTensor> statistics, Batch batch,
            Pass pass) {
        MlpPasses.LossAndGradients g = passes.lossAndGradients(values, batch);
        return new Gradients<>(HostTensor.scalar(g.loss()), g.gradients());
    }

    @Override
    protected HostTensor logits(List<HostTensor> parameters, List<HostTensor> statistics, Batch batch) {
        return passes.logits(parameters, batch);
    }

    @Override
    public String engineName() {
        return ExternalEngineProvider.NAME;
    }

    @Override
    protected void free() {
        // Nothing native.
    }
}
