package io.github.agnosticsam.conformance;

import io.github.agnosticsam.io.Json;
import io.github.agnosticsam.model.Activation;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * PyTorch's exact second derivatives of a small tanh (or ReLU) MLP's training loss (float64 autograd:
 * {@code conformance/tools/generate_curvature.py}), what the curvature diagnostics are checked
 * against on every engine. Vectors hold every parameter element in parameter order.
 *
 * @param products pairs {v, H·v}
 * @param eigenvalues the three largest, largest first
 * @param probes ±1 vectors, and {@code probeValues} their zᵀHz
 * @param rhoOneStep L(θ + ρ·g/‖g‖) − L(θ)
 */
record CurvatureGolden(ModelSpec.Mlp model, List<HostTensor> params, List<Batch> batches, double loss,
        List<double[][]> products, double[] eigenvalues, double trace, List<double[]> probes, double[] probeValues,
        double rho, double rhoOneStep) {

    private static final String FOLDER = "/io/github/agnosticsam/conformance/curvature/";

    /** Hutchinson's estimate for the golden probes: the mean of their zᵀHz. */
    double probeMean() {
        double sum = 0;
        for (double v : probeValues) {
            sum += v;
        }
        return sum / probeValues.length;
    }

    @SuppressWarnings("unchecked") // Json.parse makes every object a Map<String, Object>, every array a List
    static CurvatureGolden load() {
        return load("tanh-mlp.json");
    }

    /** A case of the folder: {@code tanh-mlp.json}, or {@code relu-mlp.json} (the same MLP with ReLU). */
    @SuppressWarnings("unchecked")
    static CurvatureGolden load(String name) {
        Map<String, Object> root = (Map<String, Object>) Json.parse(resource(FOLDER + name));
        Map<String, Object> model = (Map<String, Object>) root.get("model");
        int[] layers = ((List<Object>) model.get("layers")).stream().mapToInt(o -> ((Number) o).intValue()).toArray();
        Activation activation = "relu".equals(model.get("activation")) ? Activation.RELU : Activation.TANH;
        ModelSpec.Mlp spec = new ModelSpec.Mlp(layers, activation, number(model.get("labelSmoothing")));
        List<HostTensor> params = new ArrayList<>();
        for (Object p : (List<Object>) root.get("params")) {
            params.add(tensor(p));
        }
        List<Batch> batches = new ArrayList<>();
        for (Object b : (List<Object>) root.get("batches")) {
            Map<String, Object> batch = (Map<String, Object>) b;
            int[] labels = ((List<Object>) batch.get("y")).stream().mapToInt(o -> ((Number) o).intValue()).toArray();
            batches.add(new Batch(tensor(batch.get("x")), labels));
        }
        List<double[][]> products = new ArrayList<>();
        for (Object p : (List<Object>) root.get("products")) {
            Map<String, Object> pair = (Map<String, Object>) p;
            products.add(new double[][] {vector(pair.get("v")), vector(pair.get("hv"))});
        }
        List<double[]> probes = new ArrayList<>();
        for (Object z : (List<Object>) root.get("probes")) {
            probes.add(vector(z));
        }
        return new CurvatureGolden(spec, params, batches, number(root.get("loss")), products,
                vector(root.get("eigenvalues")), number(root.get("trace")), probes, vector(root.get("probeValues")),
                number(root.get("rho")), number(root.get("rhoOneStep")));
    }

    private static double number(Object o) {
        return ((Number) o).doubleValue();
    }

    @SuppressWarnings("unchecked")
    private static double[] vector(Object o) {
        return ((List<Object>) o).stream().mapToDouble(CurvatureGolden::number).toArray();
    }

    /** A vector, or a matrix given as a list of rows. */
    @SuppressWarnings("unchecked")
    private static HostTensor tensor(Object o) {
        List<Object> list = (List<Object>) o;
        if (!(list.get(0) instanceof List)) {
            return HostTensor.of(vector(list), list.size());
        }
        double[][] rows = list.stream().map(CurvatureGolden::vector).toArray(double[][]::new);
        double[] flat = new double[rows.length * rows[0].length];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, flat, i * rows[0].length, rows[0].length);
        }
        return HostTensor.of(flat, rows.length, rows[0].length);
    }

    private static String resource(String path) {
        try (InputStream in = CurvatureGolden.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + path + " in the conformance jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
