package io.github.agnosticsam.examples;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** Where the Fashion-MNIST (or MNIST) IDX files are. */
final class DataOption {
    @Option(names = "--data", paramLabel = "DIR", defaultValue = ImageDataset.DEBIAN_PATH,
            description = "Folder of the four IDX .gz files (default: ${DEFAULT-VALUE}, from 'apt-get install dataset-fashion-mnist').")
    Path dir;

    /** The four files, as inputs a command's outputs must not overwrite. */
    List<OutputFiles.Use> inputs() {
        List<OutputFiles.Use> out = new ArrayList<>();
        for (boolean train : new boolean[] {true, false}) {
            ImageDataset.files(dir, train).forEach(f -> out.add(OutputFiles.Use.file("the data file", f)));
        }
        return out;
    }
}
