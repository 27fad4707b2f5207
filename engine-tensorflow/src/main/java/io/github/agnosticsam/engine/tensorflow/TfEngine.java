package io.github.agnosticsam.engine.tensorflow;

import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.spi.Device;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import io.github.agnosticsam.spi.Network;
import java.util.List;
import org.tensorflow.DeviceSpec;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.TensorFlow;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;

/**
 * TensorFlow Java in graph mode. Engine options: {@code device} (auto: TensorFlow places ops on a GPU
 * when its GPU native library finds one; cpu: hides GPUs; gpu: fails clearly without one),
 * {@code threads} (intra- and inter-op threads), and the properties (or system properties of the
 * same names):
 * <ul>
 *   <li>{@code tensorflow.cacheDir=DIR} — where JavaCPP extracts the native library ({@code
 *       org.bytedeco.javacpp.cachedir}; default {@code ~/.javacpp/cache});</li>
 *   <li>{@code tensorflow.storage=flat|tensors} — how a network built here keeps its parameters:
 *       {@code flat} (default), one variable of them all, so the optimizer's part of a step is a
 *       fixed number of graph nodes whatever the number of tensors; {@code tensors}, one variable
 *       each.</li>
 * </ul>
 * Nothing is downloaded at run time.
 */
public final class TfEngine implements Engine {
    static final String CACHE_DIR = "tensorflow.cacheDir";
    static final String STORAGE = "tensorflow.storage";

    private final ConfigProto config;
    private final String device;
    private final boolean flat;
    private boolean closed;

    private TfEngine(ConfigProto config, String device, boolean flat) {
        this.config = config;
        this.device = device;
        this.flat = flat;
    }

    public static TfEngine create(EngineOptions options) {
        String storage = options.properties().getOrDefault(STORAGE, System.getProperty(STORAGE, "flat"));
        if (!storage.equals("flat") && !storage.equals("tensors")) {
            throw new IllegalArgumentException(STORAGE + " must be flat or tensors, got '" + storage + "'");
        }
        String cache = options.properties().getOrDefault(CACHE_DIR, System.getProperty(CACHE_DIR));
        if (cache != null) {
            System.setProperty("org.bytedeco.javacpp.cachedir", cache);
        }
        String version;
        try {
            version = TensorFlow.version();
        } catch (RuntimeException | LinkageError e) {
            throw new IllegalStateException("the TensorFlow engine could not load TensorFlow's native library. Add "
                    + "org.tensorflow:tensorflow-core-native:1.1.0 with classifier linux-x86_64 (linux-x86_64-gpu for "
                    + "CUDA) beside org.tensorflow:tensorflow-core-api:1.1.0. Cause: " + e, e);
        }
        ConfigProto.Builder config = ConfigProto.newBuilder().setAllowSoftPlacement(true);
        if (options.threads() > 0) {
            config.setIntraOpParallelismThreads(options.threads()).setInterOpParallelismThreads(options.threads());
        }
        String where;
        if (options.device() == Device.CPU) {
            config.putDeviceCount("GPU", 0);
            where = "cpu";
        } else if (options.device() == Device.GPU) {
            if (!hasGpu()) {
                throw new IllegalStateException("device gpu was asked for, but TensorFlow finds no GPU. A CUDA run needs "
                        + "an NVIDIA driver and org.tensorflow:tensorflow-core-native:1.1.0 with classifier "
                        + "linux-x86_64-gpu instead of linux-x86_64; or use device cpu or auto");
            }
            where = "gpu";
        } else {
            where = hasGpu() ? "gpu (auto)" : "cpu (auto)";
        }
        return new TfEngine(config.build(), where + ", TensorFlow " + version
                + (options.threads() > 0 ? ", " + options.threads() + " threads" : "")
                + (storage.equals("flat") ? "" : ", one variable per parameter"), storage.equals("flat"));
    }

    /** Whether an op pinned to GPU 0 runs (soft placement off). */
    private static boolean hasGpu() {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g).withDevice(DeviceSpec.newBuilder().deviceType(DeviceSpec.DeviceType.GPU)
                    .deviceIndex(0).build());
            Operand<TFloat32> one = tf.identity(tf.constant(1f));
            try (Session s = new Session(g, ConfigProto.newBuilder().setAllowSoftPlacement(false).build());
                    Result r = s.runner().fetch(one).run()) {
                return r.size() == 1;
            } catch (RuntimeException e) {
                return false;
            }
        }
    }

    @Override
    public String name() {
        return TfEngineProvider.NAME;
    }

    @Override
    public String device() {
        return device;
    }

    @Override
    public Network build(ModelSpec model, List<HostTensor> initialParameters) {
        checkOpen();
        if (model instanceof ModelSpec.Custom) {
            throw new io.github.agnosticsam.spi.UnsupportedFeatureException("a custom model needs its TensorFlow "
                    + "function: use build(TfModel, initialParameters), not " + model);
        }
        return new TfNetwork(model, (tf, p, x, layers) -> GraphModels.logits(tf, model, p, x, layers),
                initialParameters, config, flat);
    }

    /** Builds your own model; train it with {@link io.github.agnosticsam.training.Training} like any network. */
    public Network build(TfModel model, List<HostTensor> initialParameters) {
        checkOpen();
        return new TfNetwork(model.description(), model::logits, initialParameters, config, flat);
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("engine is closed");
        }
    }

    /** Builds nothing more; each network owns its graph and session and stays usable until it is closed. */
    @Override
    public void close() {
        closed = true;
    }
}
