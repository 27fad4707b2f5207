package io.github.agnosticsam.spi.support;

import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.spi.CompiledStep;
import io.github.agnosticsam.spi.StateSlot;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.spi.Tensors;
import java.util.List;

/**
 * What every {@link CompiledStep} does the same way: the storage decision, the optimizer state's
 * layout, checks and conversion, the running-statistics rule and the lifecycle. An engine supplies
 * {@code run} and where the state lives ({@link #readState}, {@link #writeState}).
 *
 * <p>Storage: on flat storage, a program that {@link StepProgram#supportsFlatStorage() runs on it}
 * is defined with {@link StepProgram#defineFlat} and its state is one vector per kind ({@link
 * FlatLayout#kinds}); any other program sees the parameter tensors, cut from the vector ({@link
 * #cut()}), and keeps one state tensor per slot.
 */
public abstract class AbstractCompiledStep implements CompiledStep {
    private final AbstractNetwork network;
    private final StepProgram program;
    private final List<StateSlot> slots;
    private final boolean flat;
    /** Asked once: a schedule of the user's may be a function that sees every call. */
    private final int scalarInputs;
    private boolean closed;

    protected AbstractCompiledStep(AbstractNetwork network, StepProgram program) {
        this.network = network;
        this.program = program;
        this.slots = program.state(network.model().parameterShapes());
        this.flat = network.flatStorage() && program.supportsFlatStorage() && network.layout().kinds(slots) >= 0;
        this.scalarInputs = program.scalars(0).length;
    }

    /** The state as the engine stores it, copied to Java memory: one tensor per slot, or per kind when {@link #flat()}. */
    protected abstract List<HostTensor> readState();

    /** Overwrites the stored state with checked values, laid out as {@link #readState} gives them. */
    protected abstract void writeState(List<HostTensor> stored);

    /** Frees what the step holds natively while its network is open; called once, by {@link #close()}. */
    protected void free() {
    }

    protected final StepProgram program() {
        return program;
    }

    protected final List<StateSlot> slots() {
        return slots;
    }

    /** Whether the program runs on flat storage ({@link StepProgram#defineFlat}): one state vector per kind. */
    protected final boolean flat() {
        return flat;
    }

    /** Flat storage under a per-tensor program: it sees the tensors, the engine keeps the vector. */
    protected final boolean cut() {
        return network.flatStorage() && !flat;
    }

    /** How many scalar inputs the program takes. */
    protected final int scalarInputs() {
        return scalarInputs;
    }

    /** The network's flat layout. */
    protected final FlatLayout layout() {
        return network.layout();
    }

    /** The state's initial values as they are stored. */
    protected final List<HostTensor> initialState() {
        return stored(slots.stream().map(StateSlot::initial).toList());
    }

    /** State values as this step stores them: one vector per kind when {@link #flat()}. */
    private List<HostTensor> stored(List<HostTensor> values) {
        return flat ? network.layout().joinKinds(values) : values;
    }

    @Override
    public final List<HostTensor> state() {
        checkUsable();
        List<HostTensor> stored = readState();
        return flat ? network.layout().splitKinds(stored) : stored;
    }

    @Override
    public final void setState(List<HostTensor> values) {
        checkUsable();
        StateSlot.checkValues(slots, values, network.largestValue());
        writeState(stored(values));
    }

    /**
     * The value a running statistic takes after a step: the clean pass's {@code moved} where the step
     * was applied and every element of it is finite, else {@code current} — one rule for every engine.
     */
    public static <T> T committedStatistic(Tensors<T> ops, T applied, T current, T moved) {
        return ops.where(ops.mul(applied, ops.allFinite(moved)), moved, current);
    }

    @Override
    public final void close() {
        if (!closed) {
            closed = true;
            if (!network.closed()) {
                free();
            }
        }
    }

    /**
     * The checks of every run, for an engine's {@code run} (also one that takes batches already on its
     * device): the step and network open, a train batch, a validation batch when the program reads
     * one (one it does not read is ignored), and one value per scalar input.
     */
    protected final void checkRun(Object train, Object validation, double[] scalars) {
        checkUsable();
        if (train == null) {
            throw new IllegalArgumentException("train batch must not be null");
        }
        if (program.usesValidationBatch() && validation == null) {
            throw new IllegalArgumentException("this program reads a validation batch at every step, got none");
        }
        if (scalars == null || scalars.length != scalarInputs) {
            throw new IllegalArgumentException("this program takes " + scalarInputs + " scalar inputs, got "
                    + (scalars == null ? "null" : scalars.length));
        }
    }

    /** Throws IllegalStateException unless both the step and its network are open. */
    protected final void checkUsable() {
        network.checkOpen();
        if (closed) {
            throw new IllegalStateException("step is closed");
        }
    }
}
