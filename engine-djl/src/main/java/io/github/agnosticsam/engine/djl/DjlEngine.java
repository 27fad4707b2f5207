package io.github.agnosticsam.engine.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.pytorch.jni.JniUtils;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import io.github.agnosticsam.spi.Network;
import java.util.List;
import java.util.Map;

/**
 * DJL with PyTorch, offline and quiet unless told otherwise. Settings (engine options properties,
 * or system properties of the same name):
 * <ul>
 *   <li>{@code djl.online=true} — let DJL download native libraries and send its usage telemetry
 *       (off by default: {@code ai.djl.offline=true}, {@code OPT_OUT_TRACKING=true});</li>
 *   <li>{@code djl.cacheDir=DIR} — where DJL extracts the PyTorch native library
 *       ({@code DJL_CACHE_DIR}; DJL's default is {@code ~/.djl.ai});</li>
 *   <li>{@code djl.storage=flat|tensors} — how a network built here keeps its parameters: {@code
 *       flat} (default), one vector, so a step costs a fixed number of operations whatever the
 *       number of tensors; {@code tensors}, one array each (the block's own).</li>
 *   <li>{@code djl.checks=auto|host|device} — where a step's finite checks and selects decide:
 *       {@code host} reads the verdict (cheap on the CPU, where PyTorch's calls are synchronous),
 *       {@code device} keeps it in arrays (what a GPU needs: a read stalls its stream); {@code auto}
 *       (default) is host on the CPU.</li>
 *   <li>{@code djl.exactProducts=true} — exact Hessian-vector products for the curvature
 *       diagnostics (double backward), instead of central differences of gradients. Off by
 *       default: through DJL 0.36's API each product leaks about two parameter-sized tensors of
 *       native memory for the life of the process (docs/diagnostics.md, "Exact products").</li>
 * </ul>
 * The device is the GPU when DJL sees one ({@code auto}), or forced ({@code cpu}, {@code gpu});
 * {@code threads} sets PyTorch's intra-op threads.
 */
public final class DjlEngine implements Engine {
    static final String ONLINE = "djl.online";
    static final String CACHE_DIR = "djl.cacheDir";
    static final String STORAGE = "djl.storage";
    static final String CHECKS = "djl.checks";
    static final String EXACT_PRODUCTS = "djl.exactProducts";

    private final ai.djl.engine.Engine pytorch;
    private final Device device;
    private final NDManager manager;
    private final boolean flat;
    private final boolean hostChecks;
    private boolean exactProducts;

    private DjlEngine(ai.djl.engine.Engine pytorch, Device device, boolean flat, String checks) {
        this.pytorch = pytorch;
        this.device = device;
        this.manager = pytorch.newBaseManager(device);
        this.flat = flat;
        this.hostChecks = checks.equals("auto") ? NdTensors.readsOnHost(device) : checks.equals("host");
    }

    /** Creates the engine; this is where PyTorch's native library is loaded. */
    public static DjlEngine create(EngineOptions options) {
        String storage = options.properties().getOrDefault(STORAGE, System.getProperty(STORAGE, "flat"));
        if (!storage.equals("flat") && !storage.equals("tensors")) {
            throw new IllegalArgumentException(STORAGE + " must be flat or tensors, got '" + storage + "'");
        }
        String checks = options.properties().getOrDefault(CHECKS, System.getProperty(CHECKS, "auto"));
        if (!checks.equals("auto") && !checks.equals("host") && !checks.equals("device")) {
            throw new IllegalArgumentException(CHECKS + " must be auto, host or device, got '" + checks + "'");
        }
        String exact = options.properties().getOrDefault(EXACT_PRODUCTS, System.getProperty(EXACT_PRODUCTS, "false"));
        if (!exact.equals("true") && !exact.equals("false")) {
            throw new IllegalArgumentException(EXACT_PRODUCTS + " must be true or false, got '" + exact + "'");
        }
        configure(options.properties());
        ai.djl.engine.Engine pytorch = loadPyTorch();
        if (options.threads() > 0) {
            JniUtils.setNumThreads(options.threads());
        }
        DjlEngine engine = new DjlEngine(pytorch, chooseDevice(pytorch, options.device()), storage.equals("flat"),
                checks);
        engine.exactProducts = exact.equals("true");
        return engine;
    }

    /** Sets DJL's system properties before DJL's engine class is first touched. */
    static void configure(Map<String, String> properties) {
        boolean online = Boolean.parseBoolean(properties.getOrDefault(ONLINE, System.getProperty(ONLINE, "false")));
        if (!online) {
            setIfAbsent("ai.djl.offline", "true");
            setIfAbsent("OPT_OUT_TRACKING", "true");
        }
        String cache = properties.getOrDefault(CACHE_DIR, System.getProperty(CACHE_DIR));
        if (cache != null) {
            System.setProperty("DJL_CACHE_DIR", cache);
        }
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null && System.getenv(key) == null) {
            System.setProperty(key, value);
        }
    }

    private static ai.djl.engine.Engine loadPyTorch() {
        try {
            return ai.djl.engine.Engine.getEngine("PyTorch");
        } catch (RuntimeException | LinkageError e) {
            throw new IllegalStateException("the DJL engine could not load PyTorch's native library. Add "
                    + "ai.djl.pytorch:pytorch-jni:2.7.1-0.36.0 and ai.djl.pytorch:pytorch-native-cpu:2.7.1 (classifier "
                    + "linux-x86_64; for CUDA, the matching pytorch-native-cu* artifact) to the class path, with "
                    + "ai.djl.pytorch:pytorch-engine:0.36.0. DJL said: " + rootMessage(e), e);
        }
    }

    private static Device chooseDevice(ai.djl.engine.Engine pytorch, io.github.agnosticsam.spi.Device wanted) {
        return switch (wanted) {
            case CPU -> Device.cpu();
            case AUTO -> pytorch.getGpuCount() > 0 ? Device.gpu() : Device.cpu();
            case GPU -> {
                if (pytorch.getGpuCount() == 0) {
                    throw new IllegalStateException("device gpu was asked for, but DJL's PyTorch sees no GPU. A CUDA run "
                            + "needs an NVIDIA driver and the CUDA build of the native library "
                            + "(ai.djl.pytorch:pytorch-native-cu128:2.7.1, classifier linux-x86_64) instead of "
                            + "pytorch-native-cpu; or use device cpu or auto");
                }
                yield Device.gpu();
            }
        };
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }

    @Override
    public String name() {
        return DjlEngineProvider.NAME;
    }

    @Override
    public String device() {
        return device.toString() + " (PyTorch " + pytorch.getVersion() + ", " + JniUtils.getNumThreads() + " threads"
                + (flat ? "" : ", one array per parameter") + (hostChecks ? ")" : ", checks on the device)");
    }

    /** The manager every array of this engine descends from (for tests of native memory). */
    NDManager rootManager() {
        return manager;
    }

    @Override
    public Network build(ModelSpec model, List<HostTensor> initialParameters) {
        if (!manager.isOpen()) {
            throw new IllegalStateException("engine is closed");
        }
        Block block = StandardModels.block(model);
        NDManager networkManager = manager.newSubManager();
        try {
            int[] input = model.inputShape();
            long[] shape = new long[input.length + 1];
            shape[0] = 1;
            for (int i = 0; i < input.length; i++) {
                shape[i + 1] = input[i];
            }
            block.initialize(networkManager, DataType.FLOAT32, new Shape(shape));
            DjlNetwork network = DjlNetwork.standard(model, block, networkManager, initialParameters, flat, hostChecks);
            network.exactProducts = exactProducts;
            return network;
        } catch (RuntimeException e) {
            networkManager.close();
            throw e;
        }
    }

    /** Frees every network built here (and their steps) with it. */
    @Override
    public void close() {
        manager.close();
    }
}
