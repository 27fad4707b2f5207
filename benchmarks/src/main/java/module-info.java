/** JMH benchmarks of optimizer steps on any engine found through ServiceLoader. */
module io.github.agnosticsam.benchmarks {
    requires io.github.agnosticsam.core;
    requires jmh.core;

    exports io.github.agnosticsam.benchmarks;
    exports io.github.agnosticsam.benchmarks.jmh_generated;
}
