/** Data-parallel replicas across processes: an authenticated ring all-reduce over TCP. */
module io.github.agnosticsam.spark {
    requires transitive io.github.agnosticsam.core;

    exports io.github.agnosticsam.spark;
}
