/** The agnostic-sam command line. It reaches engines only through the core API and ServiceLoader. */
module io.github.agnosticsam.examples {
    requires io.github.agnosticsam.core;
    requires io.github.agnosticsam.conformance;
    requires info.picocli;
    requires me.tongfei.progressbar;
    requires org.knowm.xchart;
    requires java.desktop;

    opens io.github.agnosticsam.examples to info.picocli;
}
