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
    private boolean closed;

    protected AbstractCompiledStep(AbstractNetwork network, StepProgram program) {
        this.network = network;
        this.program = program;
        this.slots = program.state(network.model().parameterShapes());
        this.flat = network.flatStorage() && program.supportsFlatStorage() && network.layout().kinds(slots) >= 0;
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
    public List<HostTensor> state() {
        checkUsable();
        List<HostTensor> stored = readState();
        return flat ? network.layout().splitKinds(stored) : stored;
    }

    @Override
    public void setState(List<HostTensor> values) {
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
    public void close() {
        if (!closed) {
            closed = true;
            if (!network.closed()) {
                free();
            }
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
