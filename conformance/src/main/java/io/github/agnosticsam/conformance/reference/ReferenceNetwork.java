package io.github.agnosticsam.conformance.reference;

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
 * A model on the reference engine: parameters and running statistics are Java arrays, the math is a
 * {@link HostModel}, and {@link EagerNetwork} does the rest. There is no device: a batch is
 * itself, scopes free nothing, and storing a value copies its array into the persistent tensor.
 */
final class ReferenceNetwork extends EagerNetwork<HostTensor, Batch> {
    private static final HostAlgebra OPS = new HostAlgebra();

    private final HostModel model;
    private final boolean flat;
    private final List<HostTensor> params = new ArrayList<>();
    private final List<HostTensor> statistics;

    /** {@code flat}: one array holds every parameter (the support layer's flat storage). */
    ReferenceNetwork(ModelSpec spec, List<HostTensor> initial, boolean flat) {
        super(spec);
        this.model = HostModel.of(spec);
        this.flat = flat;
        if (flat) {
            params.add(HostTensor.zeros(layout().size()));
        } else {
            for (int[] shape : spec.parameterShapes()) {
                params.add(HostTensor.zeros(shape));
            }
        }
        this.statistics = spec.initialStatistics();
        setParameters(initial);
    }

    /** float64: any finite value. */
    @Override
    protected double largestValue() {
        return Double.MAX_VALUE;
    }

    @Override
    protected boolean flatStorage() {
        return flat;
    }

    /** Copies: there are no views of a Java array. */
    @Override
    protected List<HostTensor> split(HostTensor flatValues) {
        return layout().split(flatValues);
    }

    /** The model computes on one array per parameter. */
    private List<HostTensor> tensors(List<HostTensor> values) {
        return flat ? layout().split(values.get(0)) : values;
    }

    @Override
    protected Tensors<HostTensor> ops() {
        return OPS;
    }

    @Override
    protected List<HostTensor> parameterTensors() {
        return params;
    }

    @Override
    protected List<HostTensor> statisticTensors() {
        return statistics;
    }

    @Override
    protected HostTensor allocate(HostTensor value) {
        return value.copy();
    }

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
        return () -> { };
    }

    @Override
    protected HostTensor retain(HostTensor scratch) {
        return scratch;
    }

    @Override
    protected void release(HostTensor retained) {
        // Java memory: the garbage collector frees it.
    }

    @Override
    protected Gradients<HostTensor> gradients(List<HostTensor> values, List<HostTensor> current, Batch batch,
            Pass pass) {
        HostModel.Gradients g = model.lossAndGradients(tensors(values), current, batch, pass.updatesRunningStatistics());
        return new Gradients<>(HostTensor.scalar(g.loss()), flat ? List.of(layout().join(g.gradients())) : g.gradients(),
                g.statistics());
    }

    @Override
    protected HostTensor logits(List<HostTensor> parameters, List<HostTensor> current, Batch batch) {
        return HostTensor.of(model.logits(tensors(parameters), current, batch), batch.size(), model().classes());
    }

    @Override
    public String engineName() {
        return ReferenceEngineProvider.NAME;
    }

    @Override
    protected void free() {
        // Nothing native to free.
    }

    static List<HostTensor> copies(List<HostTensor> tensors) {
        List<HostTensor> out = new ArrayList<>(tensors.size());
        for (HostTensor t : tensors) {
            out.add(t.copy());
        }
        return out;
    }
}
