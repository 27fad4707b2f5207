package io.github.agnosticsam.examples;

import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

/** Writes small Fashion-MNIST-shaped IDX files whose classes can be learnt (a bright row per class). */
final class SyntheticIdx {
    private SyntheticIdx() {
    }

    static Path write(Path dir, int trainCount, int testCount) throws IOException {
        Files.createDirectories(dir);
        Random random = new Random(7);
        for (String prefix : new String[] {"train", "t10k"}) {
            int n = prefix.equals("train") ? trainCount : testCount;
            byte[] labels = new byte[n];
            byte[] pixels = new byte[n * 784];
            for (int i = 0; i < n; i++) {
                int label = random.nextInt(10);
                labels[i] = (byte) label;
                for (int j = 0; j < 784; j++) {
                    int row = j / 28;
                    int v = random.nextInt(80) + (row == 2 * label + 4 ? 170 : 0);
                    pixels[i * 784 + j] = (byte) v;
                }
            }
            writeIdx(dir.resolve(prefix + "-labels-idx1-ubyte.gz"), 0x801, new int[] {n}, labels);
            writeIdx(dir.resolve(prefix + "-images-idx3-ubyte.gz"), 0x803, new int[] {n, 28, 28}, pixels);
        }
        return dir;
    }

    static void writeIdx(Path file, int magic, int[] dims, byte[] data) throws IOException {
        try (DataOutputStream out = new DataOutputStream(new GZIPOutputStream(Files.newOutputStream(file)))) {
            out.writeInt(magic);
            for (int d : dims) {
                out.writeInt(d);
            }
            out.write(data);
        }
    }
}
