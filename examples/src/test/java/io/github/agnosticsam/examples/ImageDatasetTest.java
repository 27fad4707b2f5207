package io.github.agnosticsam.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageDatasetTest {

    @Test
    void readsIdxImagesAndLabels(@TempDir Path dir) throws IOException {
        SyntheticIdx.write(dir, 50, 20);
        ImageDataset train = ImageDataset.load(dir, true);
        assertThat(train.size()).isEqualTo(50);
        assertThat(train.pixels()).hasSize(50 * 784);
        for (float p : train.pixels()) {
            assertThat(p).isBetween(0f, 1f);
        }
        assertThat(ImageDataset.load(dir, false).size()).isEqualTo(20);
        ImageDataset small = train.subset(10, 1);
        assertThat(small.size()).isEqualTo(10);
        assertThat(train.subset(10, 1).labels()).isEqualTo(small.labels());
        ImageDataset noisy = train.withNoise(1.0, 3);
        assertThat(noisy.labels()).isNotEqualTo(train.labels());
        assertThat(java.util.Arrays.stream(noisy.labels()).allMatch(l -> l >= 0 && l < 10)).isTrue();
    }

    @Test
    void theRealFashionMnistHasTheDocumentedSizes() {
        Path debian = Path.of(ImageDataset.DEBIAN_PATH);
        Assumptions.assumeTrue(Files.isDirectory(debian), "apt-get install dataset-fashion-mnist");
        assertThat(ImageDataset.load(debian, true).size()).isEqualTo(60_000);
        assertThat(ImageDataset.load(debian, false).size()).isEqualTo(10_000);
    }

    @Test
    void badFilesAreOneLineErrorsNamingTheFile(@TempDir Path dir) throws IOException {
        SyntheticIdx.write(dir, 30, 10);
        Path labels = dir.resolve("train-labels-idx1-ubyte.gz");
        Path images = dir.resolve("train-images-idx3-ubyte.gz");

        SyntheticIdx.writeIdx(images, 0x801, new int[] {30, 28, 28}, new byte[30 * 784]);
        assertThatThrownBy(() -> ImageDataset.load(dir, true)).isInstanceOf(ImageDataset.DataException.class)
                .hasMessageContaining(images.toString()).hasMessageContaining("magic number 0x00000801");

        SyntheticIdx.writeIdx(images, 0x803, new int[] {30, 28, 28}, new byte[10 * 784]);
        assertThatThrownBy(() -> ImageDataset.load(dir, true)).hasMessageContaining("truncated");

        SyntheticIdx.writeIdx(images, 0x803, new int[] {31, 28, 28}, new byte[31 * 784]);
        assertThatThrownBy(() -> ImageDataset.load(dir, true)).hasMessageContaining("31 images, but");

        Files.write(labels, new byte[] {1, 2, 3});
        assertThatThrownBy(() -> ImageDataset.load(dir, true)).hasMessageContaining(labels.toString())
                .hasMessageContaining("not a valid gzip file");

        Files.delete(labels);
        assertThatThrownBy(() -> ImageDataset.load(dir, true)).hasMessageContaining("not found")
                .hasMessageContaining("apt-get install dataset-fashion-mnist");

        assertThatThrownBy(() -> ImageDataset.load(dir.resolve("nowhere"), true))
                .hasMessageContaining("data folder").hasMessageContaining("apt-get install dataset-fashion-mnist")
                .hasMessageNotContaining("\n");
    }
}
