package io.github.agnosticsam.engine.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The one-pass checks on arrays as large as a model's (the kit's contract uses 3x3 arrays): a dot
 * product runs vectorised BLAS code, whose every term must still count, wherever the bad element is.
 * Each check runs both ways: verdicts read on the host (the CPU's) and kept on the device (a GPU's).
 */
class NdTensorsTest {

    @ParameterizedTest(name = "{0} elements, host verdicts {1}")
    @CsvSource({"1, true", "7, true", "256, true", "257, true", "200704, true", "1000003, true",
            "1, false", "7, false", "256, false", "257, false", "200704, false", "1000003, false"})
    void allFiniteAndSumOfSquaresOnLargeArrays(int n, boolean hostVerdicts) {
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            NdTensors ops = new NdTensors(manager, hostVerdicts);
            ops.enter(manager);
            float[] values = new float[n];
            double squares = 0;
            for (int i = 0; i < n; i++) {
                values[i] = (float) Math.sin(i) * 3;
                squares += (double) values[i] * values[i];
            }
            NDArray a = manager.create(values, new Shape(n));
            assertThat(ops.allFinite(a).getFloat()).isEqualTo(1f);
            assertThat((double) ops.sumOfSquares(a).getFloat()).isCloseTo(squares, org.assertj.core.data.Percentage
                    .withPercentage(1e-3));
            NDArray matrix = manager.create(values, n % 7 == 0 ? new Shape(7, n / 7) : new Shape(1, n));
            assertThat(ops.allFinite(matrix).getFloat()).isEqualTo(1f);
            float[] bad = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
            for (int at : new int[] {0, n / 2, n - 1}) {
                for (float b : bad) {
                    float[] copy = values.clone();
                    copy[at] = b;
                    assertThat(ops.allFinite(manager.create(copy, new Shape(n))).getFloat())
                            .as("%s at %d of %d", b, at, n).isEqualTo(0f);
                }
            }
            float[] largest = values.clone();
            largest[n / 2] = Float.MAX_VALUE;
            largest[n - 1] = -Float.MAX_VALUE;
            assertThat(ops.allFinite(manager.create(largest, new Shape(n))).getFloat()).isEqualTo(1f);
        }
    }

    /**
     * Per-segment flags, on this engine's aligned layout (rows of {@link NdTensors#ROW}, one product
     * per row) and on any other lengths (one check per segment): a bad element at the first and the
     * last place of each segment flags that segment alone.
     */
    @ParameterizedTest(name = "aligned {0}, host verdicts {1}")
    @CsvSource({"true, true", "false, true", "true, false", "false, false"})
    void allFiniteSegmentsFlagsExactlyTheSegmentsWithABadElement(boolean aligned, boolean hostVerdicts) {
        int[] lengths = aligned ? new int[] {200_704, 256, 2_560, 64} : new int[] {200_704, 250, 2_560, 10};
        int n = java.util.Arrays.stream(lengths).sum();
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            NdTensors ops = new NdTensors(manager, hostVerdicts);
            ops.enter(manager);
            float[] values = new float[n];
            for (int i = 0; i < n; i++) {
                values[i] = (float) Math.cos(i) * 1e30f;
            }
            assertThat(ops.allFiniteSegments(manager.create(values), lengths).toFloatArray()).containsExactly(1, 1, 1, 1);
            int start = 0;
            for (int s = 0; s < lengths.length; s++) {
                for (int at : new int[] {start, start + lengths[s] - 1}) {
                    for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                        float[] copy = values.clone();
                        copy[at] = bad;
                        float[] expected = {1, 1, 1, 1};
                        expected[s] = 0;
                        assertThat(ops.allFiniteSegments(manager.create(copy), lengths).toFloatArray())
                                .as("%s at %d (segment %d)", bad, at, s).containsExactly(expected);
                    }
                }
                start += lengths[s];
            }
        }
    }

    /** A scalar condition selects an operand; read on the host it is that operand itself, no copy. */
    @ParameterizedTest(name = "host verdicts {0}")
    @ValueSource(booleans = {true, false})
    void whereSelectsByAScalarCondition(boolean hostVerdicts) {
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            NdTensors ops = new NdTensors(manager, hostVerdicts);
            ops.enter(manager);
            NDArray a = manager.create(new float[] {1, 2, 3});
            NDArray b = manager.create(new float[] {-1, Float.NaN, -3});
            assertThat(ops.where(ops.scalar(1), a, b).toFloatArray()).containsExactly(1, 2, 3);
            assertThat(ops.where(ops.scalar(0), a, b).toFloatArray()).containsExactly(-1, Float.NaN, -3);
            assertThat(ops.where(manager.create(1f), b, a).toFloatArray()).containsExactly(-1, Float.NaN, -3);
            if (hostVerdicts) {
                assertThat(ops.where(ops.scalar(1), a, b)).isSameAs(a);
                assertThat(ops.where(ops.scalar(0), a, b)).isSameAs(b);
            }
        }
    }
}
