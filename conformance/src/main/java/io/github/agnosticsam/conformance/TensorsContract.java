package io.github.agnosticsam.conformance;

import io.github.agnosticsam.model.Activation;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.spi.CompiledStep;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.GradientOracle;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.spi.Pass;
import io.github.agnosticsam.spi.StateSlot;
import io.github.agnosticsam.spi.StepOutput;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.spi.Tensors;
import io.github.agnosticsam.spi.UnsupportedFeatureException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;

/**
 * Every {@link Tensors} operation checked on its own on an engine, so that an engine whose
 * operation is wrong is told which one. Each check is a step program with no gradient pass that
 * applies one operation (sometimes after another, simpler one, named in the message) to the
 * parameters of a small network and to the program's scalar inputs, and reads the result back
 * through the engine's own path: the step summary, or for a few checks the parameters the program
 * returns (the parameters are restored afterwards).
 *
 * <p>The network is a 3-3-3-3 mlp, whose six parameters serve as the checks' tensors:
 * A, B and Z of shape [3,3] and u, s and h of shape [3] (values below). Special values
 * (NaN, ±Inf, −0) cannot be parameters; they come in as scalar inputs or {@code ops.scalar}
 * constants, and full tensors holding one come from {@code div} by Z, whose last element is 0.
 *
 * <p>Finite results are compared with the relative tolerance {@code relativeRounding}; NaN, ±Inf
 * and 0 exactly (the sign of a zero only where a check says so). The extreme values depend on the
 * engine's precision, which is taken from {@code relativeRounding}: at least 1e-9 means float32
 * (huge = 1e30, whose square overflows float32; large = 1e18, whose square does not;
 * largest = 3e38; tiny = 1e-30), below it float64 (1e200, 1e150, 1e308 and 1e-300). Tiny values
 * stay normal numbers: subnormals may be flushed to zero.
 *
 * <p>The binary operations, {@code axpy}, {@code where}, {@code sumOfSquares} and {@code allFinite}
 * are also checked on operands of every rank a step meets: rank 0 (scalar inputs), rank 1 of 1, 7
 * and 1000 elements (shorter than, not a multiple of, and longer than any vector width), rank 2
 * ([7,1] and [1,1000]) and rank 4 ([2,2,3,3], a convolution's weights); {@code allFiniteSegments},
 * whose operand is a vector (the tensorflow engine refuses any other rank), on the rank-1 ones.
 * Those operands are parameters of two more networks: an mlp
 * {@code 2-1000-1-7-1-7-1000-1-1000-1-7-2}, which has three parameters of each of those rank-1
 * and rank-2 shapes, and a small resnet, which has three convolutions of [2,2,3,3] (its checks
 * are skipped when the engine does not build it). Each shape has operands x and y whose elements are
 * small non-zero multiples of 1/4, so that every sum, product and sum of squares is exact in
 * float32 whatever the order of the additions, and z, whose last element is 0: x/z and z/z hold one
 * infinity and one NaN, in the last place.
 */
public final class TensorsContract {
    private static final ModelSpec.Mlp MODEL = new ModelSpec.Mlp(new int[] {3, 3, 3, 3}, Activation.TANH, 0);
    /** Fed to every step; no check evaluates the network on it. */
    private static final Batch BATCH = new Batch(HostTensor.of(new double[] {0.5, -1, 2, 1, 0, -0.5}, 2, 3),
            new int[] {0, 2});

    private static final double NAN = Double.NaN;
    private static final double INF = Double.POSITIVE_INFINITY;

    // The parameter values: small numbers exact in float32, with mixed signs, none zero in A, B, u.
    private static final double[] A_VALUES = {1, -2, 0.5, 3, -0.25, 4, -1.5, 2, 8};
    private static final double[] U_VALUES = {2, -4, 0.5};
    private static final double[] B_VALUES = {0.5, 4, -2, 8, 1, -0.25, 2, -1, -16};
    private static final double[] S_VALUES = {-0.0, 2.25, -3};
    /** Perfect squares, the last one 0: A/Z ends in +Inf, B/Z in −Inf, Z/Z in NaN. */
    private static final double[] Z_VALUES = {4, 0.25, 9, 16, 1, 2.25, 64, 0.0625, 0};

    private static final Expr A = new Param(0, "A");
    private static final Expr U = new Param(1, "u");
    private static final Expr B = new Param(2, "B");
    private static final Expr S = new Param(3, "s");
    private static final Expr Z = new Param(4, "Z");
    private static final Expr H = new Param(5, "h");

    /** Operands for the rank checks: three parameters of each shape in {@link #RANK_SHAPES}. */
    private static final ModelSpec.Mlp SHAPES_MODEL = new ModelSpec.Mlp(
            new int[] {2, 1000, 1, 7, 1, 7, 1000, 1, 1000, 1, 7, 2}, Activation.TANH, 0);
    private static final List<int[]> RANK_SHAPES = List.of(new int[] {1}, new int[] {7}, new int[] {1000},
            new int[] {7, 1}, new int[] {1, 1000});
    /** Operands for the rank-4 checks: three convolutions of [2,2,3,3]. */
    private static final ModelSpec.ResNet CONV_MODEL = new ModelSpec.ResNet(4, 2, new int[] {2}, 2, 2);
    private static final int[] CONV_SHAPE = {2, 2, 3, 3};

    private TensorsContract() {
    }

    /** The extreme values for the engine's precision (see the class comment). */
    private record Limits(double largest, double huge, double large, double tiny) {
        static Limits of(double relativeRounding) {
            return relativeRounding >= 1e-9 ? new Limits(3e38, 1e30, 1e18, 1e-30)
                    : new Limits(1e308, 1e200, 1e150, 1e-300);
        }
    }

    /**
     * Runs every check on the engine: one result per check, named "operation: what is checked".
     * A check whose program the engine cannot run is a SKIP; all are when it cannot build the mlp.
     */
    public static List<CaseResult> run(Engine engine, double relativeRounding) {
        Limits limits = Limits.of(relativeRounding);
        List<CaseResult> results = new ArrayList<>();
        results.addAll(run(engine, new Operands(MODEL, parameters(limits), BATCH), checks(limits), relativeRounding));
        Operands shapes = Operands.of(SHAPES_MODEL, RANK_SHAPES);
        results.addAll(run(engine, shapes, rankChecks(shapes, RANK_SHAPES), relativeRounding));
        Operands conv = Operands.of(CONV_MODEL, List.of(CONV_SHAPE));
        results.addAll(run(engine, conv, rankChecks(conv, List.of(CONV_SHAPE)), relativeRounding));
        return results;
    }

    /** The checks on a network of the operands; all skipped when the engine cannot build it. */
    private static List<CaseResult> run(Engine engine, Operands operands, List<Check> checks,
            double relativeRounding) {
        Network network;
        try {
            network = engine.build(operands.model(), operands.parameters());
        } catch (UnsupportedFeatureException e) {
            String reason = "the engine does not build the " + operands.model() + " the checks run on: "
                    + e.getMessage();
            return checks.stream().map(c -> new CaseResult(c.name(), CaseResult.Outcome.SKIP, Double.NaN, reason))
                    .toList();
        }
        try (network) {
            List<CaseResult> results = new ArrayList<>(checks.size());
            for (Check check : checks) {
                results.add(run(network, operands, check, relativeRounding));
            }
            return results;
        }
    }

    /** A network whose parameters are the checks' tensors, and the batch fed to its steps (never evaluated). */
    private record Operands(ModelSpec model, List<HostTensor> parameters, Batch batch) {
        /**
         * The model's parameters as operands x, y and z of each shape: its first three parameters of
         * that shape, in order (the others are not read).
         */
        static Operands of(ModelSpec model, List<int[]> shapes) {
            List<int[]> all = model.parameterShapes();
            List<HostTensor> parameters = new ArrayList<>();
            for (int p = 0; p < all.size(); p++) {
                int size = Arrays.stream(all.get(p)).reduce(1, (a, b) -> a * b);
                parameters.add(new HostTensor(all.get(p), operandValues(p, size)));
            }
            for (int[] shape : shapes) {
                double[] z = parameters.get(operandIndices(model, shape)[2]).values();
                z[z.length - 1] = 0;
            }
            return new Operands(model, parameters, SyntheticBatches.learnable(model, 2, new SplittableRandom(0)));
        }
    }

    /** Small non-zero multiples of 1/4 in [−4, 4], different for each parameter {@code p}. */
    private static double[] operandValues(int p, int size) {
        double[] v = new double[size];
        for (int i = 0; i < size; i++) {
            int k = (5 * i + 7 * p + 3) % 31 - 15; // −15 … 15
            v[i] = (k == 0 ? 16 : k) / 4.0;
        }
        return v;
    }

    /** The indices of the model's first three parameters of the shape: x, y and z. */
    private static int[] operandIndices(ModelSpec model, int[] shape) {
        List<int[]> all = model.parameterShapes();
        int[] found = new int[3];
        int n = 0;
        for (int p = 0; p < all.size() && n < 3; p++) {
            if (Arrays.equals(all.get(p), shape)) {
                found[n++] = p;
            }
        }
        if (n < 3) {
            throw new IllegalStateException(model + " has " + n + " parameters of shape " + Arrays.toString(shape));
        }
        return found;
    }

    /** A = W0, u = b0, B = W1, s = b1, Z = W2, h = b2 = [largest, −largest, tiny]. */
    private static List<HostTensor> parameters(Limits limits) {
        return List.of(HostTensor.of(A_VALUES.clone(), 3, 3), HostTensor.of(U_VALUES.clone(), 3),
                HostTensor.of(B_VALUES.clone(), 3, 3), HostTensor.of(S_VALUES.clone(), 3),
                HostTensor.of(Z_VALUES.clone(), 3, 3),
                HostTensor.of(new double[] {limits.largest(), -limits.largest(), limits.tiny()}, 3));
    }

    // The checks.

    private static List<Check> checks(Limits l) {
        List<Check> c = new ArrayList<>();
        scalarChecks(c, l);
        for (BinaryOp op : BinaryOp.values()) {
            binaryChecks(c, op);
        }
        c.add(check(Op.DIV, "1 / 0 is +Inf", div(in(0), in(1)), values(INF), 1, 0));
        c.add(check(Op.DIV, "1 / −0 is −Inf", div(in(0), in(1)), values(-INF), 1, -0.0));
        axpyChecks(c);
        sqrtChecks(c, l);
        absChecks(c, l);
        sumOfSquaresChecks(c, l);
        allFiniteChecks(c, l);
        allFiniteSegmentsChecks(c);
        whereChecks(c);
        concatChecks(c);
        parameterChecks(c);
        c.addAll(rankChecks(new Expr[] {in(0), in(1), in(2)}, "rank 0", false, values(2.25), values(-0.75),
                values(0)));
        return c;
    }

    /** The rank checks on the operands x, y and z of each shape, parameters of the operands' network. */
    private static List<Check> rankChecks(Operands operands, List<int[]> shapes) {
        List<Check> c = new ArrayList<>();
        List<String> names = operands.model().parameterNames();
        for (int[] shape : shapes) {
            int[] at = operandIndices(operands.model(), shape);
            Expr[] xyz = new Expr[3];
            for (int i = 0; i < 3; i++) {
                xyz[i] = new Param(at[i], names.get(at[i]));
            }
            String label = Arrays.toString(shape).replace(" ", "");
            c.addAll(rankChecks(xyz, label, shape.length == 1, operands.parameters().get(at[0]).values(),
                    operands.parameters().get(at[1]).values(), operands.parameters().get(at[2]).values()));
        }
        return c;
    }

    /**
     * The operations on operands of one shape, named by {@code shape}: x and y with no zero, z with 0
     * last; scalar inputs 0, 1 and 2 when the operands are (the expressions only read them).
     * {@code allFiniteSegments} only when they are {@code vectors}.
     */
    private static List<Check> rankChecks(Expr[] xyz, String shape, boolean vectors, double[] xv, double[] yv,
            double[] zv) {
        Expr x = xyz[0];
        Expr y = xyz[1];
        Expr z = xyz[2];
        double[] inputs = x instanceof Input ? join(xv, yv, zv) : values();
        List<Check> c = new ArrayList<>();
        for (BinaryOp o : BinaryOp.values()) {
            c.add(check(o.op, shape + " " + o.symbol + " " + shape, o.of(x, y), zip(xv, yv, o.f), inputs));
        }
        c.add(check(Op.AXPY, "constant · " + shape + " + " + shape, axpy(constant(-2.5), x, y),
                zip(xv, yv, (a, b) -> -2.5 * a + b), inputs));
        c.add(check(Op.WHERE, "constant condition 1 takes the first " + shape, where(constant(1), x, y), xv, inputs));
        c.add(check(Op.WHERE, "constant condition 0 takes the second " + shape, where(constant(0), x, y), yv,
                inputs));
        c.add(check(Op.SUM_OF_SQUARES, shape + ", an exact sum", sumOfSquares(x), values(sumOfSquares(xv)), inputs));
        c.add(check(Op.ALL_FINITE, "finite " + shape + " is 1", allFinite(x), values(1), inputs));
        c.add(check(Op.ALL_FINITE, shape + " with an infinity last is 0", allFinite(div(x, z)), values(0), inputs));
        c.add(check(Op.ALL_FINITE, shape + " with NaN last is 0", allFinite(div(z, z)), values(0), inputs));
        if (vectors) {
            int n = xv.length;
            c.add(check(Op.ALL_FINITE_SEGMENTS, "finite " + shape + " in one segment is 1",
                    segments(x, new int[] {n}), values(1), inputs));
            c.add(n == 1
                    ? check(Op.ALL_FINITE_SEGMENTS, shape + " holding an infinity in one segment is 0",
                            segments(div(x, z), new int[] {1}), values(0), inputs)
                    : check(Op.ALL_FINITE_SEGMENTS, shape + " with an infinity last, in a segment of its own, is 1, 0",
                            segments(div(x, z), new int[] {n - 1, 1}), values(1, 0), inputs));
        }
        return c;
    }

    private static void scalarChecks(List<Check> c, Limits l) {
        c.add(check(Op.SCALAR, "NaN", constant(NAN), values(NAN)));
        c.add(check(Op.SCALAR, "+Inf", constant(INF), values(INF)));
        c.add(check(Op.SCALAR, "−Inf", constant(-INF), values(-INF)));
        c.add(check(Op.SCALAR, "−0 keeps its sign", constant(-0.0), values(-0.0)).withSignedZeros());
        c.add(check(Op.SCALAR, "largest finite " + l.largest(), constant(l.largest()), values(l.largest())));
        c.add(check(Op.SCALAR, "tiny " + l.tiny(), constant(l.tiny()), values(l.tiny())));
        c.add(check(Op.SCALAR, "−1.75", constant(-1.75), values(-1.75)));
        c.add(check(Op.SCALAR, "0.1", constant(0.1), values(0.1)));
    }

    /** The four arithmetic operations, with Java's double arithmetic as the expectation. */
    private enum BinaryOp {
        ADD(Op.ADD, "+", Double::sum, INF, -INF),
        SUB(Op.SUB, "−", (x, y) -> x - y, INF, INF),
        MUL(Op.MUL, "×", (x, y) -> x * y, 0, INF),
        DIV(Op.DIV, "/", (x, y) -> x / y, 0, 0);

        final Op op;
        final String symbol;
        final DoubleBinaryOperator f;
        /** Operands whose result IEEE 754 defines as NaN. */
        final double nanLeft;
        final double nanRight;

        BinaryOp(Op op, String symbol, DoubleBinaryOperator f, double nanLeft, double nanRight) {
            this.op = op;
            this.symbol = symbol;
            this.f = f;
            this.nanLeft = nanLeft;
            this.nanRight = nanRight;
        }

        Expr of(Expr a, Expr b) {
            return new Apply(op, List.of(a, b));
        }
    }

    /** 0, +Inf or −Inf, for a check's name. */
    private static String label(double value) {
        return value == 0 ? "0" : value > 0 ? "+Inf" : "−Inf";
    }

    private static void binaryChecks(List<Check> c, BinaryOp o) {
        DoubleBinaryOperator f = o.f;
        String s = " " + o.symbol + " ";
        c.add(check(o.op, "[3,3]" + s + "[3,3]", o.of(A, B), zip(A_VALUES, B_VALUES, f)));
        c.add(check(o.op, "[3,3]" + s + "scalar input (scalar on the right)", o.of(A, in(0)),
                map(A_VALUES, x -> f.applyAsDouble(x, 4)), 4));
        c.add(check(o.op, "scalar input" + s + "[3,3] (scalar on the left)", o.of(in(0), A),
                map(A_VALUES, x -> f.applyAsDouble(4, x)), 4));
        c.add(check(o.op, "constant scalar" + s + "[3] (scalar on the left)", o.of(constant(10), U),
                map(U_VALUES, x -> f.applyAsDouble(10, x))));
        c.add(check(o.op, "scalar" + s + "scalar", o.of(in(0), in(1)), values(f.applyAsDouble(3, -0.5)), 3, -0.5));
        c.add(check(o.op, "[3,3]" + s + "NaN is NaN everywhere", o.of(A, in(0)), map(A_VALUES, x -> NAN), NAN));
        c.add(check(o.op, "+Inf" + s + "[3,3]", o.of(in(0), A), map(A_VALUES, x -> f.applyAsDouble(INF, x)), INF));
        c.add(check(o.op, "[3]" + s + "−Inf", o.of(U, in(0)), map(U_VALUES, x -> f.applyAsDouble(x, -INF)), -INF));
        double[] zOverZ = zip(Z_VALUES, Z_VALUES, (x, y) -> x / y);
        c.add(check(o.op, "[3,3]" + s + "[3,3] with one NaN element: NaN stays in its place", o.of(A, div(Z, Z)),
                zip(A_VALUES, zOverZ, f)));
        c.add(check(o.op, label(o.nanLeft) + s + label(o.nanRight) + " is NaN", o.of(in(0), in(1)), values(NAN),
                o.nanLeft, o.nanRight));
    }

    /** a·x + y, which an engine may fuse or compute partly in place: never into x or y. */
    private static void axpyChecks(List<Check> c) {
        c.add(check(Op.AXPY, "scalar input · [3,3] + [3,3]", axpy(in(0), A, B),
                zip(A_VALUES, B_VALUES, (x, y) -> -2.5 * x + y), -2.5));
        c.add(check(Op.AXPY, "constant · [3] + [3]", axpy(constant(0.5), U, S),
                zip(U_VALUES, S_VALUES, (x, y) -> 0.5 * x + y)));
        c.add(check(Op.AXPY, "scalars", axpy(in(0), in(1), in(2)), values(1), 3, -2, 7));
        c.add(check(Op.AXPY, "leaves x and y as they were", concat(axpy(in(0), A, B), A, B),
                join(zip(A_VALUES, B_VALUES, (x, y) -> 4 * x + y), A_VALUES, B_VALUES), 4));
        c.add(check(Op.AXPY, "x and y one tensor: (a + 1)·x", axpy(in(0), U, U), map(U_VALUES, x -> 3 * x), 2));
        c.add(check(Op.AXPY, "a = 0 times +Inf is NaN, in its place", axpy(in(0), div(A, Z), B),
                zip(zip(A_VALUES, Z_VALUES, (x, z) -> 0 * (x / z)), B_VALUES, Double::sum), 0));
        c.add(check(Op.AXPY, "a = 0 times NaN is NaN", axpy(in(0), div(Z, Z), B),
                zip(zip(Z_VALUES, Z_VALUES, (x, z) -> 0 * (x / z)), B_VALUES, Double::sum), 0));
        c.add(check(Op.AXPY, "a = 0 times −Inf is NaN", axpy(in(0), div(B, Z), A),
                zip(zip(B_VALUES, Z_VALUES, (x, z) -> 0 * (x / z)), A_VALUES, Double::sum), 0));
        c.add(check(Op.AXPY, "+Inf in y stays", axpy(in(0), B, div(A, Z)),
                zip(B_VALUES, zip(A_VALUES, Z_VALUES, (x, z) -> x / z), (x, y) -> 0.25 * x + y), 0.25));
        c.add(check(Op.AXPY, "read back as a parameter", axpy(in(0), A, B),
                zip(A_VALUES, B_VALUES, (x, y) -> 2 * x + y), 2).readBackAs(2));
    }

    private static void sqrtChecks(List<Check> c, Limits l) {
        c.add(check(Op.SQRT, "[3,3] of perfect squares", sqrt(Z), map(Z_VALUES, Math::sqrt)));
        c.add(check(Op.SQRT, "2", sqrt(in(0)), values(Math.sqrt(2)), 2));
        c.add(check(Op.SQRT, "0 is 0", sqrt(in(0)), values(0), 0));
        c.add(check(Op.SQRT, "−0 is a zero, not NaN", sqrt(in(0)), values(0), -0.0));
        c.add(check(Op.SQRT, "−1 is NaN", sqrt(in(0)), values(NAN), -1));
        c.add(check(Op.SQRT, "+Inf is +Inf", sqrt(in(0)), values(INF), INF));
        c.add(check(Op.SQRT, "NaN is NaN", sqrt(in(0)), values(NAN), NAN));
        c.add(check(Op.SQRT, "tiny " + l.tiny(), sqrt(in(0)), values(Math.sqrt(l.tiny())), l.tiny()));
    }

    private static void absChecks(List<Check> c, Limits l) {
        c.add(check(Op.ABS, "[3,3]", abs(A), map(A_VALUES, Math::abs)));
        c.add(check(Op.ABS, "[3] holding −0 gives +0", abs(S), map(S_VALUES, Math::abs)).withSignedZeros());
        c.add(check(Op.ABS, "−0 is +0", abs(in(0)), values(0.0), -0.0).withSignedZeros());
        c.add(check(Op.ABS, "−Inf is +Inf", abs(in(0)), values(INF), -INF));
        c.add(check(Op.ABS, "NaN is NaN", abs(in(0)), values(NAN), NAN));
        c.add(check(Op.ABS, "−largest is largest", abs(in(0)), values(l.largest()), -l.largest()));
    }

    private static void sumOfSquaresChecks(List<Check> c, Limits l) {
        c.add(check(Op.SUM_OF_SQUARES, "[3,3], an exact small sum", sumOfSquares(A), values(sumOfSquares(A_VALUES))));
        c.add(check(Op.SUM_OF_SQUARES, "[3]", sumOfSquares(U), values(sumOfSquares(U_VALUES))));
        c.add(check(Op.SUM_OF_SQUARES, "[3] holding −0", sumOfSquares(S), values(sumOfSquares(S_VALUES))));
        c.add(check(Op.SUM_OF_SQUARES, "scalar input", sumOfSquares(in(0)), values(9), -3));
        c.add(check(Op.SUM_OF_SQUARES, "is one scalar that scales a [3,3] like a scalar", mul(A, sumOfSquares(U)),
                map(A_VALUES, x -> x * sumOfSquares(U_VALUES))));
        c.add(check(Op.SUM_OF_SQUARES, "large " + l.large() + " squares to a finite value", sumOfSquares(in(0)),
                values(l.large() * l.large()), l.large()));
        c.add(check(Op.SUM_OF_SQUARES, "huge " + l.huge() + " overflows to +Inf, not NaN", sumOfSquares(in(0)),
                values(INF), l.huge()));
        c.add(check(Op.SUM_OF_SQUARES, "[3] of ±largest overflows to +Inf, not NaN", sumOfSquares(H), values(INF)));
        c.add(check(Op.SUM_OF_SQUARES, "−Inf is +Inf", sumOfSquares(in(0)), values(INF), -INF));
        c.add(check(Op.SUM_OF_SQUARES, "NaN is NaN", sumOfSquares(in(0)), values(NAN), NAN));
        c.add(check(Op.SUM_OF_SQUARES, "[3,3] with one NaN element is NaN", sumOfSquares(div(Z, Z)), values(NAN)));
    }

    private static void allFiniteChecks(List<Check> c, Limits l) {
        c.add(check(Op.ALL_FINITE, "finite [3,3] is 1", allFinite(A), values(1)));
        c.add(check(Op.ALL_FINITE, "[3] holding −0 is 1", allFinite(S), values(1)));
        c.add(check(Op.ALL_FINITE, "[3] of ±largest and tiny is 1", allFinite(H), values(1)));
        c.add(check(Op.ALL_FINITE, "largest scalar is 1", allFinite(in(0)), values(1), l.largest()));
        c.add(check(Op.ALL_FINITE, "NaN scalar is 0", allFinite(in(0)), values(0), NAN));
        c.add(check(Op.ALL_FINITE, "+Inf scalar is 0", allFinite(in(0)), values(0), INF));
        c.add(check(Op.ALL_FINITE, "−Inf scalar is 0", allFinite(in(0)), values(0), -INF));
        c.add(check(Op.ALL_FINITE, "[3,3] with one NaN (last) is 0", allFinite(div(Z, Z)), values(0)));
        c.add(check(Op.ALL_FINITE, "[3,3] with one +Inf (last) is 0", allFinite(div(A, Z)), values(0)));
        c.add(check(Op.ALL_FINITE, "[3,3] with one −Inf (last) is 0", allFinite(div(B, Z)), values(0)));
    }

    /** An engine without flat storage refuses the operation: its checks are then skipped. */
    private static void allFiniteSegmentsChecks(List<Check> c) {
        int[] three = {9, 3, 9};
        c.add(check(Op.ALL_FINITE_SEGMENTS, "finite segments [9, 3, 9] are 1, 1, 1",
                segments(concat(A, U, B), three), values(1, 1, 1)));
        c.add(check(Op.ALL_FINITE_SEGMENTS, "+Inf last in the first segment flags it alone",
                segments(concat(div(A, Z), U, B), three), values(0, 1, 1)));
        c.add(check(Op.ALL_FINITE_SEGMENTS, "NaN last in the last segment flags it alone",
                segments(concat(A, U, div(Z, Z)), three), values(1, 1, 0)));
        c.add(check(Op.ALL_FINITE_SEGMENTS, "NaN in the middle segment flags it alone",
                segments(concat(A, mul(U, in(0)), B), three), values(1, 0, 1), NAN));
        c.add(check(Op.ALL_FINITE_SEGMENTS, "−Inf first in the last segment flags it alone, not the one before",
                segments(concat(A, div(B, Z), S), new int[] {9, 8, 4}), values(1, 1, 0)));
        c.add(check(Op.ALL_FINITE_SEGMENTS, "one segment of ±largest and tiny is 1",
                segments(H, new int[] {3}), values(1)));
        c.add(check(Op.ALL_FINITE_SEGMENTS, "one-element segments each flag their own element",
                segments(div(U, concat(in(0), in(1), in(2))), new int[] {1, 1, 1}), values(1, 0, 1), 1, 0, -1));
    }

    private static void whereChecks(List<Check> c) {
        c.add(check(Op.WHERE, "condition 1 takes the first [3,3]", where(in(0), A, B), A_VALUES, 1));
        c.add(check(Op.WHERE, "condition 0 takes the second [3,3]", where(in(0), A, B), B_VALUES, 0));
        c.add(check(Op.WHERE, "constant condition 1 takes the first [3]", where(constant(1), U, S), U_VALUES));
        c.add(check(Op.WHERE, "constant condition 0 takes the second [3]", where(constant(0), U, S), S_VALUES));
        c.add(check(Op.WHERE, "condition 1 between scalars", where(in(0), in(1), in(2)), values(7), 1, 7, -2));
        c.add(check(Op.WHERE, "condition 0 between scalars", where(in(0), in(1), in(2)), values(-2), 0, 7, -2));
        c.add(check(Op.WHERE, "condition 1: NaN in the branch not taken does not leak",
                where(in(0), A, mul(B, in(1))), A_VALUES, 1, NAN));
        c.add(check(Op.WHERE, "condition 0: NaN in the branch not taken does not leak",
                where(in(0), mul(A, in(1)), B), B_VALUES, 0, NAN));
        c.add(check(Op.WHERE, "condition 0 keeps the +Inf of the branch taken", where(in(0), A, div(A, Z)),
                zip(A_VALUES, Z_VALUES, (x, y) -> x / y), 0));
    }

    private static void concatChecks(List<Check> c) {
        c.add(check(Op.CONCAT, "rank 0, 1, 2 in order, row-major", concat(in(0), U, A), join(values(5), U_VALUES,
                A_VALUES), 5));
        c.add(check(Op.CONCAT, "rank 2, 0, 1 in order, row-major", concat(B, constant(-1.5), S),
                join(B_VALUES, values(-1.5), S_VALUES)));
        c.add(check(Op.CONCAT, "two [3,3] in order", concat(A, B), join(A_VALUES, B_VALUES)));
        c.add(check(Op.CONCAT, "one [3,3] flattened row-major", concat(A), A_VALUES));
    }

    /** Results read back through the parameters the program returns, then restored. */
    private static void parameterChecks(List<Check> c) {
        c.add(check(Op.SUB, "scalar input − [3,3], read back as a parameter", sub(in(0), A),
                map(A_VALUES, x -> 10 - x), 10).readBackAs(0));
        c.add(check(Op.DIV, "scalar input / [3,3], read back as a parameter", div(in(0), B),
                map(B_VALUES, x -> 2 / x), 2).readBackAs(2));
        c.add(check(Op.WHERE, "condition 0 on [3], read back as a parameter", where(in(0), U, S), S_VALUES, 0)
                .readBackAs(1));
    }

    // Running a check.

    private static CaseResult run(Network network, Operands operands, Check check, double tolerance) {
        List<HostTensor> parameters = operands.parameters();
        CaseResult result;
        try (CompiledStep step = network.compile(new CheckProgram(check))) {
            double[] summary = step.run(operands.batch(), null, check.inputs()).read();
            double[] actual = check.parameter() < 0 ? summary : network.parameters().get(check.parameter()).values();
            result = compare(check, parameters, actual, tolerance);
        } catch (UnsupportedFeatureException e) {
            result = new CaseResult(check.name(), CaseResult.Outcome.SKIP, Double.NaN,
                    check.describe(parameters) + ": unsupported: " + e.getMessage());
        } catch (RuntimeException e) {
            result = new CaseResult(check.name(), CaseResult.Outcome.FAIL, Double.NaN, check.describe(parameters)
                    + " threw " + e.getClass().getSimpleName() + ": " + e.getMessage() + check.suspects());
        }
        // Also after a check that should not have changed them: a wrong in-place operation must fail
        // its own check, not the ones after it.
        try {
            network.setParameters(parameters);
        } catch (RuntimeException e) {
            return new CaseResult(check.name(), CaseResult.Outcome.FAIL, Double.NaN, check.describe(parameters)
                    + ": restoring the parameters afterwards threw " + e.getClass().getSimpleName() + ": "
                    + e.getMessage());
        }
        return result;
    }

    private static CaseResult compare(Check check, List<HostTensor> parameters, double[] actual,
            double tolerance) {
        double[] expected = check.expected();
        String got = "expected " + Arrays.toString(expected) + ", got " + Arrays.toString(actual);
        if (actual.length != expected.length) {
            return new CaseResult(check.name(), CaseResult.Outcome.FAIL, Double.NaN, check.describe(parameters)
                    + ": " + expected.length + " elements expected, got " + actual.length + ": " + got
                    + check.suspects());
        }
        double worst = 0;
        String first = null;
        for (int i = 0; i < expected.length; i++) {
            double ratio = mismatch(expected[i], actual[i], tolerance, check.signedZeros());
            worst = Math.max(worst, ratio);
            if (ratio > 1 && first == null) {
                first = String.format(Locale.ROOT, "element %d: expected %s, got %s", i, expected[i], actual[i]);
            }
        }
        if (first == null) {
            return new CaseResult(check.name(), CaseResult.Outcome.PASS, worst, "");
        }
        // A wrong NaN, infinity or zero is no matter of rounding: no ratio to the tolerance then.
        return new CaseResult(check.name(), CaseResult.Outcome.FAIL, Double.isInfinite(worst) ? Double.NaN : worst,
                check.describe(parameters) + ": " + got + " (first wrong " + first + ")" + check.suspects());
    }

    /**
     * How far actual is from expected as a fraction of the tolerance: at most 1 is a match.
     * NaN, ±Inf and zeros match only exactly (infinitely far otherwise).
     */
    private static double mismatch(double expected, double actual, double tolerance, boolean signedZeros) {
        boolean exact;
        if (Double.isNaN(expected)) {
            exact = Double.isNaN(actual);
        } else if (Double.isInfinite(expected)) {
            exact = expected == actual;
        } else if (expected == 0) {
            exact = actual == 0 && (!signedZeros
                    || Double.doubleToRawLongBits(expected) == Double.doubleToRawLongBits(actual));
        } else {
            double ratio = Math.abs(actual - expected) / (tolerance * Math.abs(expected));
            return Double.isNaN(ratio) ? Double.POSITIVE_INFINITY : ratio;
        }
        return exact ? 0 : Double.POSITIVE_INFINITY;
    }

    /**
     * One check: an expression over the parameters and the scalar inputs, the elements it must give
     * in row-major order, and where they are read: the summary, or parameter {@code parameter}.
     */
    private record Check(Op op, String what, Expr expr, double[] inputs, double[] expected, boolean signedZeros,
            int parameter) {
        String name() {
            return op + ": " + what;
        }

        Check withSignedZeros() {
            return new Check(op, what, expr, inputs, expected, true, parameter);
        }

        Check readBackAs(int index) {
            return new Check(op, what, expr, inputs, expected, signedZeros, index);
        }

        /** The expression with the values of its inputs and of the parameters it reads. */
        String describe(List<HostTensor> parameters) {
            StringBuilder sb = new StringBuilder(expr.toString());
            String sep = " with ";
            for (int i = 0; i < inputs.length; i++) {
                sb.append(sep).append("in").append(i).append(" = ").append(inputs[i]);
                sep = ", ";
            }
            for (Param p : params(expr, new ArrayList<>())) {
                HostTensor value = parameters.get(p.index());
                sb.append(sep).append(p.name()).append(Arrays.toString(value.shape())).append(" = ")
                        .append(Arrays.toString(value.values()));
                sep = ", ";
            }
            if (parameter >= 0) {
                sb.append(", returned as the new value of parameter ").append(MODEL.parameterNames().get(parameter));
            }
            return sb.toString();
        }

        /** The other operations the check goes through, to suspect when their own checks fail too. */
        String suspects() {
            Set<String> others = new TreeSet<>();
            ops(expr, others);
            others.remove(op.toString());
            if (parameter >= 0) {
                others.add("the engine's parameter read-back");
            }
            return others.isEmpty() ? "" : "; the check also goes through " + String.join(", ", others)
                    + ": if those fail their own checks, suspect them first";
        }

        private static List<Param> params(Expr e, List<Param> found) {
            if (e instanceof Param p && !found.contains(p)) {
                found.add(p);
            } else if (e instanceof Apply a) {
                a.args().forEach(arg -> params(arg, found));
            } else if (e instanceof Segments s) {
                params(s.flat(), found);
            }
            return found;
        }

        private static void ops(Expr e, Set<String> found) {
            if (e instanceof Constant) {
                found.add(Op.SCALAR.toString());
            } else if (e instanceof Apply a) {
                found.add(a.op().toString());
                a.args().forEach(arg -> ops(arg, found));
            } else if (e instanceof Segments s) {
                found.add(Op.ALL_FINITE_SEGMENTS.toString());
                ops(s.flat(), found);
            }
        }
    }

    private static Check check(Op op, String what, Expr expr, double[] expected, double... inputs) {
        return new Check(op, what, expr, inputs, expected, false, -1);
    }

    /** A program with no gradient pass that evaluates a check's expression. */
    private record CheckProgram(Check check) implements StepProgram {
        @Override
        public List<Pass> passes() {
            return List.of();
        }

        @Override
        public List<StateSlot> state(List<int[]> parameterShapes) {
            return List.of();
        }

        @Override
        public double[] scalars(long step) {
            return check.inputs().clone();
        }

        @Override
        public <T> StepOutput<T> define(Tensors<T> ops, GradientOracle<T> oracle, List<T> parameters, List<T> state,
                List<T> scalars) {
            T value = check.expr().eval(ops, parameters, scalars);
            if (check.parameter() < 0) {
                return new StepOutput<>(parameters, state, value, ops.scalar(1));
            }
            List<T> updated = new ArrayList<>(parameters);
            updated.set(check.parameter(), value);
            return new StepOutput<>(updated, state, ops.scalar(0), ops.scalar(1));
        }
    }

    // Expressions.

    private enum Op {
        SCALAR, ADD, SUB, MUL, DIV, AXPY, SQRT, ABS, SUM_OF_SQUARES, ALL_FINITE, WHERE, CONCAT, ALL_FINITE_SEGMENTS;

        /** The method's name in {@link Tensors}. */
        @Override
        public String toString() {
            return switch (this) {
                case SUM_OF_SQUARES -> "sumOfSquares";
                case ALL_FINITE -> "allFinite";
                case ALL_FINITE_SEGMENTS -> "allFiniteSegments";
                default -> name().toLowerCase(Locale.ROOT);
            };
        }
    }

    private sealed interface Expr permits Param, Input, Constant, Apply, Segments {
        <T> T eval(Tensors<T> ops, List<T> parameters, List<T> inputs);
    }

    private record Param(int index, String name) implements Expr {
        @Override
        public <T> T eval(Tensors<T> ops, List<T> parameters, List<T> inputs) {
            return parameters.get(index);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** Scalar input {@code index} of the program. */
    private record Input(int index) implements Expr {
        @Override
        public <T> T eval(Tensors<T> ops, List<T> parameters, List<T> inputs) {
            return inputs.get(index);
        }

        @Override
        public String toString() {
            return "in" + index;
        }
    }

    private record Constant(double value) implements Expr {
        @Override
        public <T> T eval(Tensors<T> ops, List<T> parameters, List<T> inputs) {
            return ops.scalar(value);
        }

        @Override
        public String toString() {
            return "scalar(" + value + ")";
        }
    }

    private record Apply(Op op, List<Expr> args) implements Expr {
        @Override
        public <T> T eval(Tensors<T> ops, List<T> parameters, List<T> inputs) {
            List<T> x = new ArrayList<>(args.size());
            for (Expr arg : args) {
                x.add(arg.eval(ops, parameters, inputs));
            }
            return switch (op) {
                case ADD -> ops.add(x.get(0), x.get(1));
                case SUB -> ops.sub(x.get(0), x.get(1));
                case MUL -> ops.mul(x.get(0), x.get(1));
                case DIV -> ops.div(x.get(0), x.get(1));
                case AXPY -> ops.axpy(x.get(0), x.get(1), x.get(2));
                case SQRT -> ops.sqrt(x.get(0));
                case ABS -> ops.abs(x.get(0));
                case SUM_OF_SQUARES -> ops.sumOfSquares(x.get(0));
                case ALL_FINITE -> ops.allFinite(x.get(0));
                case WHERE -> ops.where(x.get(0), x.get(1), x.get(2));
                case CONCAT -> ops.concat(x);
                case SCALAR, ALL_FINITE_SEGMENTS -> throw new IllegalStateException(op + " is not an Apply");
            };
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder(op.toString()).append('(');
            for (int i = 0; i < args.size(); i++) {
                sb.append(i == 0 ? "" : ", ").append(args.get(i));
            }
            return sb.append(')').toString();
        }
    }

    /** allFiniteSegments of a vector, whose segment lengths are not an expression. */
    private record Segments(Expr flat, int[] lengths) implements Expr {
        @Override
        public <T> T eval(Tensors<T> ops, List<T> parameters, List<T> inputs) {
            return ops.allFiniteSegments(flat.eval(ops, parameters, inputs), lengths.clone());
        }

        @Override
        public String toString() {
            return Op.ALL_FINITE_SEGMENTS + "(" + flat + ", " + Arrays.toString(lengths) + ")";
        }
    }

    private static Expr segments(Expr flat, int[] lengths) {
        return new Segments(flat, lengths);
    }

    private static Expr in(int index) {
        return new Input(index);
    }

    private static Expr constant(double value) {
        return new Constant(value);
    }

    private static Expr add(Expr a, Expr b) {
        return new Apply(Op.ADD, List.of(a, b));
    }

    private static Expr sub(Expr a, Expr b) {
        return new Apply(Op.SUB, List.of(a, b));
    }

    private static Expr mul(Expr a, Expr b) {
        return new Apply(Op.MUL, List.of(a, b));
    }

    private static Expr div(Expr a, Expr b) {
        return new Apply(Op.DIV, List.of(a, b));
    }

    private static Expr axpy(Expr a, Expr x, Expr y) {
        return new Apply(Op.AXPY, List.of(a, x, y));
    }

    private static Expr sqrt(Expr a) {
        return new Apply(Op.SQRT, List.of(a));
    }

    private static Expr abs(Expr a) {
        return new Apply(Op.ABS, List.of(a));
    }

    private static Expr sumOfSquares(Expr a) {
        return new Apply(Op.SUM_OF_SQUARES, List.of(a));
    }

    private static Expr allFinite(Expr a) {
        return new Apply(Op.ALL_FINITE, List.of(a));
    }

    private static Expr where(Expr condition, Expr a, Expr b) {
        return new Apply(Op.WHERE, List.of(condition, a, b));
    }

    private static Expr concat(Expr... parts) {
        return new Apply(Op.CONCAT, List.of(parts));
    }

    // Expected values, in float64 on the host.

    private static double[] values(double... v) {
        return v;
    }

    private static double[] map(double[] x, DoubleUnaryOperator f) {
        return Arrays.stream(x).map(f).toArray();
    }

    private static double[] zip(double[] x, double[] y, DoubleBinaryOperator f) {
        double[] out = new double[x.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = f.applyAsDouble(x[i], y[i]);
        }
        return out;
    }

    private static double sumOfSquares(double[] x) {
        double s = 0;
        for (double v : x) {
            s += v * v;
        }
        return s;
    }

    private static double[] join(double[]... parts) {
        return Arrays.stream(parts).flatMapToDouble(Arrays::stream).toArray();
    }
}
