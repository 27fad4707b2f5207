package io.github.agnosticsam.spi;

/** Where an engine runs: a GPU when one is found (AUTO), or forced. */
public enum Device {
    AUTO, CPU, GPU;

    public static Device fromId(String id) {
        for (Device d : values()) {
            if (d.name().equalsIgnoreCase(id)) {
                return d;
            }
        }
        throw new IllegalArgumentException("device must be auto, cpu or gpu, got '" + id + "'");
    }
}
