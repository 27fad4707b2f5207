/**
 * The DJL (PyTorch) engine of agnostic-sam.
 *
 * <p>DJL's jars are automatic modules: they declare nothing, and resolving an automatic module
 * brings in only the other automatic modules. The modules with a descriptor that DJL uses at run
 * time are required here on its behalf, so that a consumer on the module path needs no
 * {@code --add-modules}: {@code org.slf4j} (DJL logs through it; a binding such as
 * {@code slf4j-nop} or {@code slf4j-simple} on the module path is found by service binding) and
 * {@code com.google.gson} ({@code TrainingResult.toString()} and DJL's metrics write JSON with it).
 * Not required: {@code org.apache.commons.compress}, used only by DJL's model zoo downloads (add
 * {@code --add-modules org.apache.commons.compress} if you use them). PyTorch's native library jar
 * ({@code pytorch-native-cpu}) has no valid module name and stays on the class path, where DJL
 * finds it as a resource.
 */
module io.github.agnosticsam.engine.djl {
    requires transitive io.github.agnosticsam.core;
    requires transitive ai.djl.api;
    requires ai.djl.pytorch_engine;
    requires org.slf4j;
    requires com.google.gson;

    exports io.github.agnosticsam.engine.djl;

    provides io.github.agnosticsam.spi.EngineProvider with io.github.agnosticsam.engine.djl.DjlEngineProvider;
}
