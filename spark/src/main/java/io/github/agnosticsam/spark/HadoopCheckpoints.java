package io.github.agnosticsam.spark;

import io.github.agnosticsam.examples.CheckpointSink;
import io.github.agnosticsam.training.Checkpoint;
import io.github.agnosticsam.training.CheckpointException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;

/**
 * A run's checkpoints in a folder of any Hadoop file system ({@code hdfs://}, {@code s3a://},
 * {@code file://}, …) that every executor and the driver see: named as {@code train} names them
 * ({@code step-0000001200.safetensors}), the newest {@code keep} kept. A checkpoint is written to
 * a local temporary file, copied to a hidden name in the folder and renamed into place, so a
 * reader never takes a half-written one for a checkpoint (the rename is atomic on HDFS and local
 * file systems; object stores that emulate it by copying still never show the final name before
 * the copy is whole).
 */
final class HadoopCheckpoints implements CheckpointSink {
    private static final Pattern NAME = CheckpointSink.FILE_NAME;
    private static final String PARTIAL = ".partial-";

    private final FileSystem fs;
    private final org.apache.hadoop.fs.Path dir;
    private final long every;
    private final int keep;

    HadoopCheckpoints(String folder, long every, int keep, Configuration conf) {
        if (every < 0) {
            throw new IllegalArgumentException("--checkpoint-every must be >= 0 (0: after each epoch only), got " + every);
        }
        if (keep < 1) {
            throw new IllegalArgumentException("--keep must be >= 1, got " + keep);
        }
        URI uri;
        try {
            uri = URI.create(folder);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--checkpoint " + folder + " is not a URI: " + e.getMessage());
        }
        this.dir = new org.apache.hadoop.fs.Path(uri);
        try {
            this.fs = dir.getFileSystem(conf);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("--checkpoint " + folder + ": no file system for it (" + e.getMessage()
                    + ")");
        }
        this.every = every;
        this.keep = keep;
    }

    @Override
    public long every() {
        return every;
    }

    /** The folder, as the file system names it. */
    String folder() {
        return fs.makeQualified(dir).toString();
    }

    /** Creates the folder if needed and removes what interrupted writes left (replica 0, before it writes). */
    void prepare() {
        try {
            fs.mkdirs(dir);
            for (FileStatus f : fs.listStatus(dir)) {
                if (f.getPath().getName().startsWith(PARTIAL)) {
                    fs.delete(f.getPath(), false);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the checkpoint folder " + folder() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void save(Checkpoint checkpoint) {
        String name = CheckpointSink.fileName(checkpoint.steps());
        org.apache.hadoop.fs.Path target = new org.apache.hadoop.fs.Path(dir, name);
        org.apache.hadoop.fs.Path partial = new org.apache.hadoop.fs.Path(dir, PARTIAL + UUID.randomUUID() + "-" + name);
        Path local = null;
        try {
            Path scratch = Files.createTempDirectory("agnostic-sam-checkpoint");
            local = scratch.resolve(name);
            checkpoint.write(local);
            fs.copyFromLocalFile(false, true, new org.apache.hadoop.fs.Path(local.toUri()), partial);
            if (fs.exists(target)) { // the same step written again by a retried attempt: the same content
                fs.delete(target, false);
            }
            if (!fs.rename(partial, target)) {
                throw new IOException("renaming " + partial + " to " + target + " failed");
            }
            List<org.apache.hadoop.fs.Path> all = list();
            for (int i = 0; i < all.size() - keep; i++) {
                fs.delete(all.get(i), false);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the checkpoint " + target + ": " + e.getMessage(), e);
        } finally {
            if (local != null) {
                deleteQuietly(local);
                deleteQuietly(local.getParent());
            }
        }
    }

    /** The step of the newest checkpoint, or -1 when there is none. */
    long newestStep() {
        List<org.apache.hadoop.fs.Path> all = listQuietly();
        if (all.isEmpty()) {
            return -1;
        }
        var m = NAME.matcher(all.get(all.size() - 1).getName());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    /**
     * Copies the newest checkpoint into {@code localFolder} under its own name and returns that
     * folder, or null when the folder holds none.
     */
    Path copyNewestTo(Path localFolder) {
        List<org.apache.hadoop.fs.Path> all = list();
        if (all.isEmpty()) {
            return null;
        }
        org.apache.hadoop.fs.Path newest = all.get(all.size() - 1);
        try {
            fs.copyToLocalFile(false, newest, new org.apache.hadoop.fs.Path(localFolder.resolve(newest.getName()).toUri()),
                    true);
        } catch (IOException e) {
            throw new CheckpointException("cannot read the checkpoint " + newest + ": " + e.getMessage());
        }
        return localFolder;
    }

    /** The folder's checkpoints, oldest first (none when it does not exist). */
    private List<org.apache.hadoop.fs.Path> list() {
        try {
            if (!fs.exists(dir)) {
                return List.of();
            }
            List<org.apache.hadoop.fs.Path> out = new ArrayList<>();
            for (FileStatus f : fs.listStatus(dir)) {
                if (NAME.matcher(f.getPath().getName()).matches()) {
                    out.add(f.getPath());
                }
            }
            out.sort(java.util.Comparator.comparing(org.apache.hadoop.fs.Path::getName));
            return out;
        } catch (IOException e) {
            throw new CheckpointException("cannot list the checkpoint folder " + folder() + ": " + e.getMessage());
        }
    }

    private List<org.apache.hadoop.fs.Path> listQuietly() {
        try {
            return list();
        } catch (CheckpointException e) {
            return List.of();
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a temporary file: the system's cleaning takes it
        }
    }
}
