/** The TensorFlow Java engine of agnostic-sam. */
module io.github.agnosticsam.engine.tensorflow {
    requires transitive io.github.agnosticsam.core;
    requires transitive tensorflow;
    requires org.tensorflow.ndarray;

    exports io.github.agnosticsam.engine.tensorflow;

    provides io.github.agnosticsam.spi.EngineProvider with io.github.agnosticsam.engine.tensorflow.TfEngineProvider;
}
