package io.github.agnosticsam.conformance;

import io.github.agnosticsam.conformance.BuggyEngine.ForwardingTensors;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.spi.Tensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * One wrong operation each, planted in the reference engine's algebra (whose tensors are
 * HostTensors): {@link TensorsContractTest} shows that each fails its own checks, and
 * {@link KitBitesTest} that each fails the kit.
 */
final class PlantedOpBugs {
    private PlantedOpBugs() {
    }

    /** The operation that is wrong, how, and the bug to plant with {@link BuggyEngine#withOps}. */
    record OpBug(String op, String what, BuggyEngine.OpsBug bug) {
        @Override
        public String toString() {
            return op + " that " + what;
        }
    }

    static List<OpBug> all() {
        return List.of(
                bug("allFiniteSegments", "flags each segment by the one before it", real -> new ForwardingTensors<>(real) {
                    @Override
                    public HostTensor allFiniteSegments(HostTensor flat, int[] lengths) {
                        double[] flags = real.allFiniteSegments(flat, lengths).values();
                        double[] late = new double[flags.length];
                        late[0] = 1;
                        System.arraycopy(flags, 0, late, 1, flags.length - 1);
                        return HostTensor.of(late, late.length);
                    }
                }),
                bug("axpy", "adds into y in place", real -> new ForwardingTensors<>(real) {
                    @Override
                    public HostTensor axpy(HostTensor a, HostTensor x, HostTensor y) {
                        double[] sum = real.axpy(a, x, y).values();
                        System.arraycopy(sum, 0, y.values(), 0, sum.length);
                        return y;
                    }
                }),
                bug("axpy", "skips the product when a is 0", real -> new ForwardingTensors<>(real) {
                    @Override
                    public HostTensor axpy(HostTensor a, HostTensor x, HostTensor y) {
                        return isScalar(a) && a.values()[0] == 0 ? y : real.axpy(a, x, y);
                    }
                }),
                bug("allFinite", "sees NaN but not ±Inf", real -> new ForwardingTensors<>(real) {
                    @Override
                    public HostTensor allFinite(HostTensor a) {
                        return HostTensor.scalar(Arrays.stream(a.values()).anyMatch(Double::isNaN) ? 0 : 1);
                    }
                }),
                bug("sub", "swaps its operands when the left one is a scalar", real -> new ForwardingTensors<>(real) {
                    @Override
                    public HostTensor sub(HostTensor a, HostTensor b) {
                        return isScalar(a) ? real.sub(b, a) : real.sub(a, b);
                    }
                }),
                bug("sub", "adds when both operands are rank 1", real -> new ForwardingTensors<>(real) {
                    @Override
                    public HostTensor sub(HostTensor a, HostTensor b) {
                        return a.shape().length == 1 && b.shape().length == 1 ? real.add(a, b) : real.sub(a, b);
                    }
                }),
                bug("div", "swaps its operands when the left one is a scalar", real -> new ForwardingTensors<>(real) {
                    @Override
                    public HostTensor div(HostTensor a, HostTensor b) {
                        return isScalar(a) ? real.div(b, a) : real.div(a, b);
                    }
                }),
                bug("where", "ignores its condition", real -> new ForwardingTensors<>(real) {
                    @Override
                    public HostTensor where(HostTensor condition, HostTensor a, HostTensor b) {
                        return a;
                    }
                }),
                bug("sqrt", "is the identity", real -> new ForwardingTensors<>(real) {
                    @Override
                    public HostTensor sqrt(HostTensor a) {
                        return a;
                    }
                }),
                bug("concat", "reverses the order", real -> new ForwardingTensors<>(real) {
                    @Override
                    public HostTensor concat(List<HostTensor> tensors) {
                        List<HostTensor> reversed = new ArrayList<>(tensors);
                        Collections.reverse(reversed);
                        return real.concat(reversed);
                    }
                }),
                bug("abs", "returns its input", real -> new ForwardingTensors<>(real) {
                    @Override
                    public HostTensor abs(HostTensor a) {
                        return a;
                    }
                }),
                bug("sumOfSquares", "returns the plain sum", real -> new ForwardingTensors<>(real) {
                    @Override
                    public HostTensor sumOfSquares(HostTensor a) {
                        return HostTensor.scalar(Arrays.stream(a.values()).sum());
                    }
                }),
                bug("scalar", "gives 0 for NaN", real -> new ForwardingTensors<>(real) {
                    @Override
                    public HostTensor scalar(double value) {
                        return real.scalar(Double.isNaN(value) ? 0 : value);
                    }
                }));
    }

    /** The bug of that name ({@link OpBug#toString()}). */
    static OpBug named(String name) {
        return all().stream().filter(b -> b.toString().equals(name)).findFirst().orElseThrow();
    }

    private static OpBug bug(String op, String what, UnaryOperator<Tensors<HostTensor>> plant) {
        return new OpBug(op, what, onReference(plant));
    }

    /** A wrong algebra for the reference engine, whose tensors are HostTensors. */
    @SuppressWarnings("unchecked")
    static BuggyEngine.OpsBug onReference(UnaryOperator<Tensors<HostTensor>> plant) {
        return new BuggyEngine.OpsBug() {
            @Override
            public <T> Tensors<T> plant(Tensors<T> ops) {
                return (Tensors<T>) plant.apply((Tensors<HostTensor>) ops);
            }
        };
    }

    private static boolean isScalar(HostTensor t) {
        return t.shape().length == 0;
    }
}
