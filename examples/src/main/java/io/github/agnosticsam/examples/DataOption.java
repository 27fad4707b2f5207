package io.github.agnosticsam.examples;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where the Fashion-MNIST (or MNIST) IDX files are. */
final class DataOption {
    @Option(names = "--data", paramLabel = "DIR", defaultValue = ImageDataset.DEBIAN_PATH,
            description = "Folder of the four IDX .gz files (default: ${DEFAULT-VALUE}, from 'apt-get install dataset-fashion-mnist').")
    Path dir;
}
