package io.github.agnosticsam.conformance;

import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.Evaluation;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.spi.Collective;
import io.github.agnosticsam.spi.CompiledStep;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.GradientOracle;
import io.github.agnosticsam.spi.LossAndGradients;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.spi.Pass;
import io.github.agnosticsam.spi.StepOutput;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.spi.StepSummary;
import io.github.agnosticsam.spi.Tensors;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * An engine with a planted bug, to show that the kit catches it: it delegates everything to a real
 * engine, except that every step program it compiles is first changed by the bug, or that its
 * networks evaluate, or set optimizer state or running statistics, wrongly. Closing it closes the
 * real engine.
 *
 * <pre>{@code
 * Engine buggy = BuggyEngine.withOps(reference, new BuggyEngine.OpsBug() {
 *     public <T> Tensors<T> plant(Tensors<T> ops) {
 *         return new BuggyEngine.ForwardingTensors<>(ops) {
 *             public T sqrt(T a) { return a; }
 *         };
 *     }
 * });
 * }</pre>
 */
final class BuggyEngine implements Engine {
    private final Engine real;
    private final UnaryOperator<StepProgram> bug;
    private final EvaluationBug evaluation;
    private final SetterBug<CompiledStep> setState;
    private final SetterBug<Network> setRunningStatistics;
    private final SetterBug<Network> setParameters;
    private final ReplicaBug replicas;
    /** Wrong exact Hessian-vector products, declared; null: the real network's, as it declares them. */
    private ProductBug products;

    private BuggyEngine(Engine real, UnaryOperator<StepProgram> bug, EvaluationBug evaluation,
            SetterBug<CompiledStep> setState, SetterBug<Network> setRunningStatistics,
            SetterBug<Network> setParameters, ReplicaBug replicas) {
        this.real = real;
        this.replicas = replicas;
        this.bug = bug;
        this.evaluation = evaluation;
        this.setState = setState;
        this.setRunningStatistics = setRunningStatistics;
        this.setParameters = setParameters;
    }

    private BuggyEngine(Engine real, UnaryOperator<StepProgram> bug, EvaluationBug evaluation,
            SetterBug<CompiledStep> setState, SetterBug<Network> setRunningStatistics,
            SetterBug<Network> setParameters) {
        this(real, bug, evaluation, setState, setRunningStatistics, setParameters, Network::compile);
    }

    private BuggyEngine(Engine real, UnaryOperator<StepProgram> bug, EvaluationBug evaluation) {
        this(real, bug, evaluation, CompiledStep::setState, Network::setRunningStatistics, Network::setParameters);
    }

    /** The engine, whose networks compile a replica's step as {@code bug} does. */
    static Engine withReplicas(Engine engine, ReplicaBug bug) {
        return new BuggyEngine(engine, UnaryOperator.identity(), Network::evaluate, CompiledStep::setState,
                Network::setRunningStatistics, Network::setParameters, bug);
    }

    /** The engine, running every step program as {@code bug} rewrites it. */
    static Engine withPrograms(Engine engine, UnaryOperator<StepProgram> bug) {
        return new BuggyEngine(engine, bug, Network::evaluate);
    }

    /** The engine, whose compiled steps set their optimizer state as {@code bug} does. */
    static Engine withSetState(Engine engine, SetterBug<CompiledStep> bug) {
        return new BuggyEngine(engine, UnaryOperator.identity(), Network::evaluate, bug, Network::setRunningStatistics,
                Network::setParameters);
    }

    /** The engine, whose networks set their running statistics as {@code bug} does. */
    static Engine withSetRunningStatistics(Engine engine, SetterBug<Network> bug) {
        return new BuggyEngine(engine, UnaryOperator.identity(), Network::evaluate, CompiledStep::setState, bug,
                Network::setParameters);
    }

    /** The engine, whose networks set their parameters as {@code bug} does. */
    static Engine withSetParameters(Engine engine, SetterBug<Network> bug) {
        return new BuggyEngine(engine, UnaryOperator.identity(), Network::evaluate, CompiledStep::setState,
                Network::setRunningStatistics, bug);
    }

    /** The engine, with every step program seeing the algebra as {@code bug} plants it. */
    static Engine withOps(Engine engine, OpsBug bug) {
        return withPrograms(engine, program -> new ForwardingProgram(program) {
            @Override
            public <T> StepOutput<T> define(Tensors<T> ops, GradientOracle<T> oracle, List<T> parameters,
                    List<T> state, List<T> scalars) {
                return real.define(bug.plant(ops), oracle, parameters, state, scalars);
            }

            @Override
            public boolean supportsFlatStorage() {
                return real.supportsFlatStorage();
            }

            @Override
            public <T> StepOutput<T> defineFlat(Tensors<T> ops, GradientOracle<T> oracle, T parameters,
                    int[] segments, List<T> state, List<T> scalars) {
                return real.defineFlat(bug.plant(ops), oracle, parameters, segments, state, scalars);
            }
        });
    }

    /**
     * The engine, whose gradient oracle is asked for {@code asked.apply(pass)} whenever a step
     * program asks it for {@code pass}: a wrong batch, or running statistics moved by the wrong pass.
     */
    static Engine withPasses(Engine engine, UnaryOperator<Pass> asked) {
        return withOracle(engine, new OracleBug() {
            @Override
            public <T> GradientOracle<T> plant(Tensors<T> ops, GradientOracle<T> oracle) {
                return new ForwardingOracle<>(oracle) {
                    @Override
                    public LossAndGradients<T> evaluate(List<T> values, Pass pass) {
                        return real.evaluate(values, asked.apply(pass));
                    }
                };
            }
        });
    }

    /** The engine, whose step programs see the gradient oracle as {@code bug} plants it. */
    static Engine withOracle(Engine engine, OracleBug bug) {
        return withPrograms(engine, program -> new ForwardingProgram(program) {
            @Override
            public <T> StepOutput<T> define(Tensors<T> ops, GradientOracle<T> oracle, List<T> parameters,
                    List<T> state, List<T> scalars) {
                return real.define(ops, bug.plant(ops, oracle), parameters, state, scalars);
            }
        });
    }

    /** The engine, whose networks evaluate batches as {@code bug} does. */
    static Engine withEvaluation(Engine engine, EvaluationBug bug) {
        return new BuggyEngine(engine, UnaryOperator.identity(), bug);
    }

    /** The engine, whose networks declare exact Hessian-vector products and form them as {@code bug} does. */
    static Engine withExactProducts(Engine engine, ProductBug bug) {
        BuggyEngine buggy = new BuggyEngine(engine, UnaryOperator.identity(), Network::evaluate);
        buggy.products = bug;
        return buggy;
    }

    /** A wrong {@link Network#hessianVectorProduct}, made from the real network. */
    interface ProductBug {
        double[] product(Network real, Batch batch, double[] v);
    }

    /** A wrong gradient oracle made from the engine's own (and its algebra). */
    interface OracleBug {
        <T> GradientOracle<T> plant(Tensors<T> ops, GradientOracle<T> real);
    }

    /** A wrong {@link Network#compile(StepProgram, Collective)}, made from the real network's. */
    interface ReplicaBug {
        CompiledStep compile(Network real, StepProgram program, Collective group);
    }

    /** A wrong algebra made from the engine's own; {@code T} is the engine's handle type. */
    interface OpsBug {
        <T> Tensors<T> plant(Tensors<T> ops);
    }

    /** A wrong {@link Network#evaluate}, made from the real network's. */
    interface EvaluationBug {
        Evaluation evaluate(Network real, Batch batch);
    }

    /** A wrong setter ({@code setState}, {@code setRunningStatistics}), made from the real one of {@code O}. */
    interface SetterBug<O> {
        void set(O real, List<HostTensor> values);
    }

    /** A gradient oracle that forwards everything, a replica's reduce point too: override what to get wrong. */
    static class ForwardingOracle<T> implements GradientOracle<T> {
        protected final GradientOracle<T> real;

        ForwardingOracle(GradientOracle<T> real) {
            this.real = real;
        }

        @Override
        public LossAndGradients<T> evaluate(List<T> parameters, Pass pass) {
            return real.evaluate(parameters, pass);
        }

        @Override
        public int replicas() {
            return real.replicas();
        }

        @Override
        public int rank() {
            return real.rank();
        }

        @Override
        public List<T> allReduceSum(List<T> tensors) {
            return real.allReduceSum(tensors);
        }
    }

    /** An algebra that forwards every operation: override the one to get wrong. */
    static class ForwardingTensors<T> implements Tensors<T> {
        protected final Tensors<T> real;

        ForwardingTensors(Tensors<T> real) {
            this.real = real;
        }

        @Override
        public T scalar(double value) {
            return real.scalar(value);
        }

        @Override
        public T add(T a, T b) {
            return real.add(a, b);
        }

        @Override
        public T sub(T a, T b) {
            return real.sub(a, b);
        }

        @Override
        public T mul(T a, T b) {
            return real.mul(a, b);
        }

        @Override
        public T div(T a, T b) {
            return real.div(a, b);
        }

        @Override
        public T sqrt(T a) {
            return real.sqrt(a);
        }

        @Override
        public T abs(T a) {
            return real.abs(a);
        }

        @Override
        public T sumOfSquares(T a) {
            return real.sumOfSquares(a);
        }

        @Override
        public T allFinite(T a) {
            return real.allFinite(a);
        }

        @Override
        public T where(T condition, T a, T b) {
            return real.where(condition, a, b);
        }

        @Override
        public T concat(List<T> tensors) {
            return real.concat(tensors);
        }

        @Override
        public T axpy(T a, T x, T y) {
            return real.axpy(a, x, y);
        }

        @Override
        public T allFiniteSegments(T flat, int[] lengths) {
            return real.allFiniteSegments(flat, lengths);
        }
    }

    /**
     * The real engine's name: it names the provider, and the kit looks the provider up by it (its
     * isAvailable() check), which a bug planted in the engine's work does not change.
     */
    @Override
    public String name() {
        return real.name();
    }

    @Override
    public String device() {
        return real.device();
    }

    @Override
    public Network build(ModelSpec model, List<HostTensor> initialParameters) {
        return new BuggyNetwork(real.build(model, initialParameters));
    }

    @Override
    public void close() {
        real.close();
    }

    private final class BuggyNetwork implements Network {
        private final Network real;

        BuggyNetwork(Network real) {
            this.real = real;
        }

        @Override
        public CompiledStep compile(StepProgram program) {
            return compile(program, null);
        }

        @Override
        public CompiledStep compile(StepProgram program, Collective group) {
            CompiledStep step = group == null ? real.compile(bug.apply(program))
                    : replicas.compile(real, bug.apply(program), group);
            return new CompiledStep() {
                @Override
                public StepSummary run(Batch train, Batch validation, double[] scalars) {
                    return step.run(train, validation, scalars);
                }

                @Override
                public List<HostTensor> state() {
                    return step.state();
                }

                @Override
                public void setState(List<HostTensor> values) {
                    setState.set(step, values);
                }

                @Override
                public void close() {
                    step.close();
                }
            };
        }

        @Override
        public String engineName() {
            return real.engineName();
        }

        @Override
        public ModelSpec model() {
            return real.model();
        }

        @Override
        public List<HostTensor> parameters() {
            return real.parameters();
        }

        @Override
        public void setParameters(List<HostTensor> values) {
            setParameters.set(real, values);
        }

        @Override
        public List<HostTensor> runningStatistics() {
            return real.runningStatistics();
        }

        @Override
        public void setRunningStatistics(List<HostTensor> values) {
            setRunningStatistics.set(real, values);
        }

        @Override
        public Evaluation evaluate(Batch batch) {
            return evaluation.evaluate(real, batch);
        }

        @Override
        public boolean hasExactHessianVectorProducts() {
            return products != null || real.hasExactHessianVectorProducts();
        }

        @Override
        public double[] hessianVectorProduct(Batch batch, double[] v) {
            return products != null ? products.product(real, batch, v) : real.hessianVectorProduct(batch, v);
        }

        @Override
        public void close() {
            real.close();
        }
    }
}
