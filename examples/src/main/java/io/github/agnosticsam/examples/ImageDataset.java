package io.github.agnosticsam.examples;

import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Images and labels from IDX files (the MNIST / Fashion-MNIST format, gzip-compressed): pixel values
 * / 255 in row-major order, one image after another.
 */
record ImageDataset(float[] pixels, int[] labels, int rows, int columns) {

    /** A bad or missing data file: the message names the file and what was wrong, in one line. */
    static final class DataException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        DataException(String message) {
            super(message);
        }
    }

    static final String DEBIAN_PATH = "/usr/share/datasets/fashion-mnist";
    private static final int IMAGES_MAGIC = 0x00000803;
    private static final int LABELS_MAGIC = 0x00000801;
    /** The most bytes of items one file may declare: the largest Java byte array. */
    static final long MAX_ARRAY_BYTES = Integer.MAX_VALUE - 8;

    /** The pixels of one image: the reader takes 28x28 images only. */
    static final int PIXELS = 28 * 28;

    /**
     * Checks, before any data is loaded, that batches of {@code count} images fit in the heap: the
     * batch's doubles, the engine's float copy of them, the indices and labels.
     */
    static void checkBatch(String option, int count) {
        long values = (long) count * PIXELS;
        Heap.check(option + " " + count, values, values * (Double.BYTES + Float.BYTES) + count * 12.0,
                IllegalArgumentException::new);
    }

    int size() {
        return labels.length;
    }

    int pixelsPerImage() {
        return rows * columns;
    }

    /** The training or test split in {@code dir}: {@code train-*} or {@code t10k-*} files. */
    static ImageDataset load(Path dir, boolean train) {
        List<Path> files = files(existing(dir), train);
        return read(files.get(0), files.get(1));
    }

    /** How many examples the split in {@code dir} declares, from its labels file's header alone. */
    static int declaredSize(Path dir, boolean train) {
        Path labelsFile = files(existing(dir), train).get(1);
        try (DataInputStream in = open(labelsFile)) {
            return labelCount(labelsFile, in);
        } catch (EOFException e) {
            throw bad(labelsFile, "truncated: the data end before the labels it declares");
        } catch (IOException e) {
            throw ioError(labelsFile, e);
        }
    }

    private static Path existing(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new DataException("data folder " + dir + " not found: install Fashion-MNIST with "
                    + "'apt-get install dataset-fashion-mnist' (it goes to " + DEBIAN_PATH + "), or pass --data DIR");
        }
        return dir;
    }

    /** The header of an IDX labels file: its magic number, then the count it declares (checked). */
    private static int labelCount(Path labelsFile, DataInputStream in) throws IOException {
        int magic = in.readInt();
        if (magic != LABELS_MAGIC) {
            throw bad(labelsFile, String.format("magic number 0x%08x, expected 0x%08x (IDX labels)", magic,
                    LABELS_MAGIC));
        }
        return count(labelsFile, in.readInt(), "item", 1);
    }

    /** The images and labels files of the training or test split in {@code dir}. */
    static List<Path> files(Path dir, boolean train) {
        String prefix = train ? "train" : "t10k";
        return List.of(dir.resolve(prefix + "-images-idx3-ubyte.gz"), dir.resolve(prefix + "-labels-idx1-ubyte.gz"));
    }

    static ImageDataset read(Path imagesFile, Path labelsFile) {
        int[] labels;
        try (DataInputStream in = open(labelsFile)) {
            int n = labelCount(labelsFile, in);
            Heap.check(labelsFile + ": " + n + " labels", n, (double) n * (1 + Integer.BYTES), // the bytes and the ints
                    ImageDataset::bad);
            byte[] raw = body(labelsFile, in, n, n + " labels");
            labels = new int[n];
            for (int i = 0; i < n; i++) {
                labels[i] = raw[i] & 0xff;
                if (labels[i] > 9) {
                    throw bad(labelsFile, "label " + labels[i] + " of item " + i + " is not a class in [0, 10)");
                }
            }
        } catch (EOFException e) {
            throw bad(labelsFile, "truncated: the data end before the labels it declares");
        } catch (IOException e) {
            throw ioError(labelsFile, e);
        }
        try (DataInputStream in = open(imagesFile)) {
            int magic = in.readInt();
            if (magic != IMAGES_MAGIC) {
                throw bad(imagesFile, String.format("magic number 0x%08x, expected 0x%08x (IDX images)", magic,
                        IMAGES_MAGIC));
            }
            int n = in.readInt();
            int rows = in.readInt();
            int columns = in.readInt();
            if (n != labels.length) {
                throw bad(imagesFile, Integer.toUnsignedString(n) + " images, but " + labelsFile.getFileName() + " has "
                        + labels.length + " labels");
            }
            if (rows != 28 || columns != 28) {
                throw bad(imagesFile, "images are " + Integer.toUnsignedString(rows) + "x"
                        + Integer.toUnsignedString(columns) + ", expected 28x28");
            }
            count(imagesFile, n, "image", (long) rows * columns);
            long size = (long) n * rows * columns;
            Heap.check(imagesFile + ": " + n + " images", size, size * (1.0 + Float.BYTES), // the bytes and the floats
                    ImageDataset::bad);
            byte[] raw = body(imagesFile, in, (int) size, n + " images of " + rows + "x" + columns);
            float[] pixels = new float[raw.length];
            for (int i = 0; i < raw.length; i++) {
                pixels[i] = (raw[i] & 0xff) / 255f;
            }
            return new ImageDataset(pixels, labels, rows, columns);
        } catch (EOFException e) {
            throw bad(imagesFile, "truncated: the data end before the images it declares");
        } catch (IOException e) {
            throw ioError(imagesFile, e);
        }
    }

    /**
     * A declared item count, checked before anything is allocated for it: at least 0, and its bytes
     * (computed in long) within one Java array.
     */
    private static int count(Path file, int declared, String what, long bytesEach) {
        if (declared < 0) {
            throw bad(file, "declares " + Integer.toUnsignedString(declared) + " " + what + "s (as a signed count "
                    + declared + "): an IDX count is at most " + MAX_ARRAY_BYTES / bytesEach);
        }
        long bytes = declared * bytesEach;
        if (bytes > MAX_ARRAY_BYTES) {
            throw bad(file, "declares " + declared + " " + what + "s (" + bytes + " bytes); this reader takes at most "
                    + MAX_ARRAY_BYTES / bytesEach + " " + what + "s (" + MAX_ARRAY_BYTES + " bytes, one Java array)");
        }
        return declared;
    }

    /**
     * Exactly {@code size} bytes, then the end of the data: read to the end so that the gzip trailer
     * (CRC-32 and length) is checked, and refuse anything after the declared items. The buffer grows
     * with what is actually there, so a header that claims more than the file holds costs nothing.
     */
    private static byte[] body(Path file, DataInputStream in, int size, String declared) throws IOException {
        byte[] raw = in.readNBytes(size);
        if (raw.length < size) {
            throw bad(file, "truncated: it declares " + declared + " (" + size + " bytes) but holds " + raw.length);
        }
        byte[] more = new byte[1 << 16];
        long trailing = 0;
        for (int r; (r = in.read(more)) != -1;) {
            trailing += r;
        }
        if (trailing > 0) {
            throw bad(file, trailing + " bytes after the " + declared + " it declares");
        }
        return raw;
    }

    private static DataInputStream open(Path file) throws IOException {
        InputStream raw = Files.newInputStream(file);
        try {
            return new DataInputStream(new java.io.BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16));
        } catch (IOException e) {
            raw.close();
            throw e;
        }
    }

    private static DataException bad(Path file, String what) {
        return bad(file + ": " + what);
    }

    private static DataException bad(String message) {
        return new DataException(message);
    }

    private static DataException ioError(Path file, IOException e) {
        if (e instanceof NoSuchFileException) {
            return new DataException(file + ": not found: install Fashion-MNIST with 'apt-get install "
                    + "dataset-fashion-mnist', or pass --data DIR");
        }
        if (e instanceof ZipException) {
            return new DataException(file + ": not a valid gzip file (" + e.getMessage() + "): corrupt or damaged, "
                    + "download it again");
        }
        return new DataException(file + ": cannot read: " + e.getMessage());
    }

    /** A random subset of {@code n} images (all when n is 0 or at least the size), seeded. */
    ImageDataset subset(int n, long seed) {
        if (n <= 0 || n >= size()) {
            return this;
        }
        int[] order = permutation(size(), new SplittableRandom(seed));
        int p = pixelsPerImage();
        float[] px = new float[n * p];
        int[] lb = new int[n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(pixels, order[i] * p, px, i * p, p);
            lb[i] = labels[order[i]];
        }
        return new ImageDataset(px, lb, rows, columns);
    }

    /** Symmetric label noise: each label is replaced with probability p by a uniform class (maybe the same). */
    ImageDataset withNoise(double p, long seed) {
        if (p == 0) {
            return this;
        }
        SplittableRandom random = new SplittableRandom(seed);
        int[] lb = labels.clone();
        for (int i = 0; i < lb.length; i++) {
            if (random.nextDouble() < p) {
                lb[i] = random.nextInt(10);
            }
        }
        return new ImageDataset(pixels, lb, rows, columns);
    }

    /** The examples at the given indices, shaped as the model's input ({@code [n, 784]} or {@code [n, 1, 28, 28]}). */
    Batch batch(int[] indices, int from, int count, ModelSpec model) {
        int p = pixelsPerImage();
        int[] input = model.inputShape();
        if (java.util.Arrays.stream(input).asLongStream().reduce(1, (a, b) -> a * b) != p) {
            throw new IllegalArgumentException("model " + model + " takes inputs of shape "
                    + java.util.Arrays.toString(input) + ", not images of " + rows + "x" + columns);
        }
        double[] x = new double[count * p];
        int[] y = new int[count];
        for (int i = 0; i < count; i++) {
            int idx = indices[from + i];
            for (int j = 0; j < p; j++) {
                x[i * p + j] = pixels[idx * p + j];
            }
            y[i] = labels[idx];
        }
        int[] shape = new int[input.length + 1];
        shape[0] = count;
        System.arraycopy(input, 0, shape, 1, input.length);
        return new Batch(new HostTensor(shape, x), y);
    }

    static int[] permutation(int n, SplittableRandom random) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }
}
