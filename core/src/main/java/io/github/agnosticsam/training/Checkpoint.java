package io.github.agnosticsam.training;

import io.github.agnosticsam.algorithm.Configurations;
import io.github.agnosticsam.io.AtomicFiles;
import io.github.agnosticsam.io.Json;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.Adam;
import io.github.agnosticsam.spi.CompiledStep;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.spi.StateSlot;
import io.github.agnosticsam.spi.UnsupportedFeatureException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.zip.CRC32C;

/**
 * Everything a training step depends on, in Java memory: parameters, running statistics, optimizer
 * state, the step counters (schedule index, applied and skipped steps) and the optimizer's
 * configuration, with the engine, dtype and library version that wrote it. Restored, the next
 * step computes what it would have computed without the break: on the same engine, device and
 * thread count, bit for bit.
 *
 * <p>On disk a checkpoint is one safetensors file (docs/checkpoints.md): tensors named
 * {@code params.<name>}, {@code statistics.<name>} and {@code state.<slot>}, everything else in
 * its {@code __metadata__} strings. {@link #write} is atomic; {@link #read} checks the whole file
 * (structure, a CRC-32C of the header and data, finite values) before anything can be restored
 * from it.
 */
public final class Checkpoint {
    /** The {@code format} metadata entry of every checkpoint this library writes. */
    public static final String FORMAT = "agnostic-sam checkpoint 1";
    /**
     * The format of a data-parallel run's checkpoint: {@link #FORMAT}'s, with the entry {@code
     * replicas} (2 or more). A library before 1.1 refuses it by its format, rather than resume it as
     * one replica; a run of one replica writes {@link #FORMAT}, as before.
     */
    public static final String FORMAT_REPLICAS = "agnostic-sam checkpoint 2";
    private static final String REPLICAS = "replicas";
    /** The version of this library, recorded in the checkpoints it writes. */
    public static final String LIBRARY_VERSION = readLibraryVersion();

    private static final long MAX_HEADER = 64L << 20;
    /** The most tensor bytes a checkpoint holds (one Java array). */
    private static final long MAX_DATA = Integer.MAX_VALUE - 8;
    private static final List<String> PREFIXES = List.of("params.", "statistics.", "state.");
    /** The library's own metadata entries; an application's extra entries take other names. */
    private static final Set<String> RESERVED = Collections.unmodifiableSet(new LinkedHashSet<>(List.of("format",
            "library", "engine", "dtype", "model", "optimizer", "steps", "skippedSteps", "params", "statistics", "state",
            "crc32c")));

    private final Map<String, String> metadata;
    private final Group parameters;
    private final Group statistics;
    private final Group state;
    private final Map<String, Object> optimizer;

    /** Tensors of one kind, by name in order. */
    private record Group(String prefix, List<String> names, List<HostTensor> tensors) {
        Group {
            if (names.size() != tensors.size()) { // an engine whose model description misses some of its tensors
                throw new IllegalArgumentException("cannot checkpoint " + tensors.size() + " " + listKey(prefix)
                        + " tensors under " + names.size() + " names " + names
                        + ": the model's description must name every one");
            }
        }
    }

    /** The metadata entry listing the tensors of a prefix: "params" for "params.". */
    private static String listKey(String prefix) {
        return prefix.substring(0, prefix.length() - 1);
    }

    private Checkpoint(Map<String, String> metadata, Group parameters, Group statistics, Group state) {
        this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata)); // in file order
        this.parameters = parameters;
        this.statistics = statistics;
        this.state = state;
        this.optimizer = asObject(Json.parse(metadata.get("optimizer")));
    }

    /**
     * Captures a run: what {@link Training#checkpoint} does, for engine integrations with their own
     * driver. {@code extra} entries (an application's own, such as its data order) are kept in the
     * metadata under their names, which must not be one of the library's.
     *
     * @throws UnsupportedFeatureException when the step program cannot describe its configuration
     * @throws IllegalArgumentException when the optimizer has a schedule that cannot be written down
     */
    public static Checkpoint capture(Network network, CompiledStep step, StepLedger ledger, Map<String, String> extra) {
        Map<String, Object> configuration = ledger.program().configuration()
                .orElseThrow(() -> new UnsupportedFeatureException("checkpoints unsupported: the step program "
                        + ledger.program().getClass().getName() + " does not describe its configuration "
                        + "(StepProgram.configuration)"));
        Map<String, String> m = new LinkedHashMap<>();
        m.put("format", ledger.replicas() == 1 ? FORMAT : FORMAT_REPLICAS);
        m.put("library", LIBRARY_VERSION);
        m.put("engine", network.engineName());
        m.put("model", network.model().toString());
        m.put("optimizer", Json.write(configuration));
        m.put("steps", Long.toString(ledger.steps()));
        m.put("skippedSteps", Long.toString(ledger.skippedSteps()));
        if (ledger.replicas() > 1) {
            m.put(REPLICAS, Integer.toString(ledger.replicas()));
        }
        if (extra == null) {
            throw new IllegalArgumentException("extra checkpoint entries must not be null (use Map.of())");
        }
        for (var e : extra.entrySet()) {
            if (e.getKey() == null || RESERVED.contains(e.getKey()) || REPLICAS.equals(e.getKey()) || e.getValue() == null) {
                throw new IllegalArgumentException("extra checkpoint entry '" + e.getKey() + "' is reserved or null; "
                        + "the library's own entries are " + RESERVED + " and " + REPLICAS);
            }
            m.put(e.getKey(), e.getValue());
        }
        ModelSpec model = network.model();
        List<String> slots = StateSlot.names(ledger.program().state(model.parameterShapes()));
        return new Checkpoint(m, new Group(PREFIXES.get(0), model.parameterNames(), network.parameters()),
                new Group(PREFIXES.get(1), model.statisticNames(), network.runningStatistics()),
                new Group(PREFIXES.get(2), slots, step.state()));
    }

    /**
     * Sets a run to this checkpoint: parameters, running statistics, optimizer state and counters,
     * after checking that the model and the optimizer's configuration are the ones it was written
     * with (a {@link CheckpointException} naming the first difference, nothing changed). If the
     * engine fails half way, what was set is put back before the exception is rethrown.
     */
    public void restore(Network network, CompiledStep step, StepLedger ledger) {
        ModelSpec model = network.model();
        if (!model.toString().equals(metadata.get("model"))) {
            throw new CheckpointException("the checkpoint is of the model '" + metadata.get("model")
                    + "', this network is '" + model + "'");
        }
        Map<String, Object> here = ledger.program().configuration()
                .orElseThrow(() -> new UnsupportedFeatureException("checkpoints unsupported: the step program "
                        + ledger.program().getClass().getName() + " does not describe its configuration"));
        String difference = Configurations.firstDifference(optimizer, "in the checkpoint", here, "here");
        if (difference != null) {
            throw new CheckpointException("the checkpoint was written with another optimizer configuration: "
                    + difference);
        }
        if (replicas() != ledger.replicas()) {
            throw new CheckpointException("the checkpoint was written by a run of " + replicas() + " replica"
                    + (replicas() == 1 ? "" : "s") + ", this run has " + ledger.replicas() + ": resume it with "
                    + replicas() + " (the data would be the same, but each replica perturbs with its own shard of B/N "
                    + "examples, so the run would not)");
        }
        List<StateSlot> slots = ledger.program().state(model.parameterShapes());
        fits("optimizer-state tensors", state, StateSlot.names(slots), slots.stream().map(StateSlot::shape).toList());
        fits("parameters", parameters, model.parameterNames(), model.parameterShapes());
        fits("running statistics", statistics, model.statisticNames(), model.statisticShapes());
        List<HostTensor> oldState = step.state();
        List<HostTensor> oldStatistics = network.runningStatistics();
        List<HostTensor> oldParameters = network.parameters();
        try {
            step.setState(state.tensors());
            network.setRunningStatistics(statistics.tensors());
            network.setParameters(parameters.tensors());
        } catch (RuntimeException e) {
            List<Runnable> undo = List.of(() -> step.setState(oldState),
                    () -> network.setRunningStatistics(oldStatistics), () -> network.setParameters(oldParameters));
            for (Runnable u : undo) { // each on its own: one that fails does not stop the others
                try {
                    u.run();
                } catch (RuntimeException again) {
                    e.addSuppressed(again);
                }
            }
            throw e;
        }
        ledger.restore(steps(), skippedSteps());
    }

    /** Throws unless a group has these names and shapes (so no engine fails half way on a shape). */
    private static void fits(String what, Group saved, List<String> names, List<int[]> shapes) {
        if (!saved.names().equals(names)) {
            throw new CheckpointException("the checkpoint's " + what + " are " + saved.names() + ", here they are "
                    + names);
        }
        for (int i = 0; i < names.size(); i++) {
            int[] shape = saved.tensors().get(i).shape();
            if (!Arrays.equals(shape, shapes.get(i))) {
                throw new CheckpointException("the checkpoint's " + saved.prefix() + names.get(i) + " has shape "
                        + Arrays.toString(shape) + ", here it has " + Arrays.toString(shapes.get(i)));
            }
        }
    }

    /** Steps run when it was taken (the next step's schedule index). */
    public long steps() {
        return Long.parseLong(metadata.get("steps"));
    }

    /** The replicas of the data-parallel run that wrote it; 1 for a run alone (and files before 1.1). */
    public int replicas() {
        return replicated(metadata) ? Integer.parseInt(metadata.get(REPLICAS)) : 1;
    }

    /** Whether the metadata is of {@link #FORMAT_REPLICAS}. */
    private static boolean replicated(Map<String, String> metadata) {
        return FORMAT_REPLICAS.equals(metadata.get("format"));
    }

    /** Steps skipped for a non-finite value before it was taken. */
    public long skippedSteps() {
        return Long.parseLong(metadata.get("skippedSteps"));
    }

    /** Steps applied before it was taken (Adam's t). */
    public long appliedSteps() {
        return steps() - skippedSteps();
    }

    /** The engine that wrote it ({@link Network#engineName()}). */
    public String engine() {
        return metadata.get("engine");
    }

    /** The library version that wrote it. */
    public String libraryVersion() {
        return metadata.get("library");
    }

    /** {@code F32} when every value is a float32, else {@code F64}. */
    public String dtype() {
        return dtype(List.of(parameters, statistics, state));
    }

    /** The model it is of, as its description prints ({@code mlp 784-256-10 relu batchnorm}). */
    public String model() {
        return metadata.get("model");
    }

    public List<HostTensor> parameters() {
        return parameters.tensors();
    }

    public List<HostTensor> runningStatistics() {
        return statistics.tensors();
    }

    public List<HostTensor> optimizerState() {
        return state.tensors();
    }

    /** The entries an application added when it was captured. */
    public Map<String, String> extra() {
        Map<String, String> out = new LinkedHashMap<>();
        metadata.forEach((k, v) -> {
            if (!RESERVED.contains(k) && !(REPLICAS.equals(k) && replicated(metadata))) {
                out.put(k, v);
            }
        });
        return out;
    }

    /**
     * Writes the checkpoint atomically: a temporary file in the same folder, synced, renamed over
     * {@code file}, the folder synced. A crash at any point leaves the old file as it was.
     */
    public void write(Path file) {
        List<Group> groups = List.of(parameters, statistics, state);
        String dtype = dtype(groups);
        int width = dtype.equals("F32") ? 4 : 8;
        Map<String, String> meta = new LinkedHashMap<>(metadata);
        meta.put("dtype", dtype);
        for (Group g : groups) {
            meta.put(listKey(g.prefix()), Json.write(g.names()));
        }
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("__metadata__", meta);
        long offset = 0;
        for (Group g : groups) {
            for (int i = 0; i < g.names().size(); i++) {
                HostTensor t = g.tensors().get(i);
                Map<String, Object> entry = new LinkedHashMap<>();
                entry.put("dtype", dtype);
                List<Object> shape = new ArrayList<>();
                for (int d : t.shape()) {
                    shape.add(d);
                }
                entry.put("shape", shape);
                long end = offset + (long) t.values().length * width;
                entry.put("data_offsets", List.of(offset, end));
                header.put(g.prefix() + g.names().get(i), entry);
                offset = end;
            }
        }
        if (offset > MAX_DATA) {
            throw new CheckpointException("cannot write the checkpoint " + file + ": " + offset + " bytes of tensors, "
                    + "more than a checkpoint holds (" + MAX_DATA + ")");
        }
        ByteBuffer data = ByteBuffer.allocate((int) offset).order(ByteOrder.LITTLE_ENDIAN);
        for (Group g : groups) {
            for (int i = 0; i < g.names().size(); i++) {
                double[] values = g.tensors().get(i).values();
                for (int j = 0; j < values.length; j++) {
                    if (!Double.isFinite(values[j])) { // read would refuse the file
                        throw new CheckpointException("cannot write the checkpoint " + file + ": " + g.prefix()
                                + g.names().get(i) + " element " + j + " is " + values[j]);
                    }
                    if (width == 4) {
                        data.putFloat((float) values[j]);
                    } else {
                        data.putDouble(values[j]);
                    }
                }
            }
        }
        meta.put("crc32c", Long.toString(checksum(header, data.flip())));
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8; // the data starts 8-aligned, as safetensors recommends
        byte[] head = Arrays.copyOf(json, padded);
        Arrays.fill(head, json.length, padded, (byte) ' ');
        ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
        try {
            AtomicFiles.write(file, out -> {
                out.write(length.array());
                out.write(head);
                out.write(data.array());
            });
        } catch (IOException | RuntimeException e) {
            throw new CheckpointException("cannot write the checkpoint " + file + ": "
                    + (e instanceof IOException io ? describe(io, file) : e.toString()), e);
        }
    }

    /**
     * The {@code crc32c} entry: CRC-32C of the header as compact JSON without that entry, then of
     * the tensor data. It covers the counters and names as well as the values.
     */
    private static long checksum(Map<String, Object> header, ByteBuffer data) {
        Map<String, Object> meta = new LinkedHashMap<>(asObject(header.get("__metadata__")));
        meta.remove("crc32c");
        Map<String, Object> covered = new LinkedHashMap<>(header);
        covered.put("__metadata__", meta);
        CRC32C crc = new CRC32C();
        crc.update(Json.write(covered).getBytes(StandardCharsets.UTF_8));
        crc.update(data.duplicate());
        return crc.getValue();
    }

    /**
     * Reads and checks a whole checkpoint file: a truncated, corrupt or foreign file is a
     * {@link CheckpointException} naming the file and what is wrong; nothing is partly read.
     */
    public static Checkpoint read(Path file) {
        if (Files.isDirectory(file)) {
            throw new CheckpointException(file + ": is a folder, not a checkpoint file");
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < 8) {
                throw new IllegalArgumentException("truncated: " + size + " bytes, fewer than the 8 of a safetensors "
                        + "header length");
            }
            ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, lengthBytes, 0);
            long headerLength = lengthBytes.flip().getLong();
            if (headerLength <= 0 || headerLength > MAX_HEADER || headerLength > size - 8) {
                throw new IllegalArgumentException("truncated or not safetensors: the header length is "
                        + Long.toUnsignedString(headerLength) + " bytes, the file has " + (size - 8) + " after it"
                        + (headerLength > MAX_HEADER ? " (at most " + MAX_HEADER + " taken)" : ""));
            }
            long dataLength = size - 8 - headerLength;
            if (dataLength > MAX_DATA) {
                throw new IllegalArgumentException(dataLength + " bytes of tensors, more than a checkpoint holds ("
                        + MAX_DATA + ")");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLength);
            readFully(channel, header, 8);
            ByteBuffer data = ByteBuffer.allocate((int) dataLength).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, data, 8 + headerLength);
            String text;
            try {
                text = StandardCharsets.UTF_8.newDecoder().decode(header.flip()).toString();
            } catch (CharacterCodingException e) {
                throw new IllegalArgumentException("the header is not UTF-8 text");
            }
            return parse(text, data.flip());
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file + ": not a valid checkpoint: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new CheckpointException("cannot read the checkpoint " + file + ": " + describe(e, file), e);
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer into, long position) throws IOException {
        while (into.hasRemaining()) {
            if (channel.read(into, position + into.position()) < 0) {
                throw new IOException("the file ended early (did it shrink while being read?)");
            }
        }
    }

    /**
     * An I/O error as a phrase, naming the path it concerns unless that is {@code file}: the JDK's
     * file-system exceptions often carry only the path.
     */
    private static String describe(IOException e, Path file) {
        if (e instanceof FileSystemException f && f.getReason() == null) {
            String what = e instanceof NoSuchFileException ? "no such file or folder"
                    : e instanceof AccessDeniedException ? "permission denied"
                    : e instanceof FileAlreadyExistsException ? "exists and is not a folder" // from createDirectories
                    : e instanceof NotDirectoryException ? "not a folder" : e.getClass().getSimpleName();
            return file.toString().equals(f.getFile()) ? what : f.getFile() + ": " + what;
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    /** One tensor's header entry, checked against the data's length. */
    private record Entry(String name, int width, int[] shape, long begin, long end) {
    }

    /**
     * Checks and decodes the header and data: structure first (so a truncated file says so), then
     * the checksum, then the values. IllegalArgumentException says what is wrong.
     */
    private static Checkpoint parse(String headerText, ByteBuffer data) {
        Map<String, Object> header = asObject(Json.parse(headerText));
        Map<String, Object> rawMeta = asObject(required(header, "__metadata__", "the header"));
        Map<String, String> meta = new LinkedHashMap<>();
        rawMeta.forEach((k, v) -> {
            if (!(v instanceof String s)) {
                throw new IllegalArgumentException("__metadata__." + k + " must be a string (safetensors metadata "
                        + "holds strings only)");
            }
            meta.put(k, s);
        });
        if (!FORMAT.equals(meta.get("format")) && !FORMAT_REPLICAS.equals(meta.get("format"))) {
            throw new IllegalArgumentException("__metadata__.format is " + Json.write(meta.get("format"))
                    + ", expected \"" + FORMAT + "\" or \"" + FORMAT_REPLICAS
                    + "\" (a safetensors file written by another program, or by a newer library?)");
        }
        for (String key : RESERVED) {
            required(meta, key, "__metadata__");
        }
        String dtype = meta.get("dtype");
        if (!dtype.equals("F32") && !dtype.equals("F64")) {
            throw new IllegalArgumentException("__metadata__.dtype is " + dtype + ", expected F32 or F64");
        }
        List<List<String>> names = new ArrayList<>();
        List<List<Entry>> entries = new ArrayList<>();
        Set<String> listed = new HashSet<>(Set.of("__metadata__"));
        for (String prefix : PREFIXES) {
            String key = listKey(prefix);
            List<String> groupNames = new ArrayList<>();
            List<Entry> groupEntries = new ArrayList<>();
            for (Object n : asList(Json.parse(meta.get(key)), "__metadata__." + key)) {
                if (!(n instanceof String s) || !listed.add(prefix + s)) {
                    throw new IllegalArgumentException("__metadata__." + key + " must list distinct tensor names, "
                            + "got " + Json.write(n) + " in " + meta.get(key));
                }
                groupNames.add(s);
                groupEntries.add(entry(prefix + s, asObject(required(header, prefix + s, "the header")), dtype));
            }
            names.add(groupNames);
            entries.add(groupEntries);
        }
        if (!listed.containsAll(header.keySet())) {
            List<String> unlisted = new ArrayList<>(header.keySet());
            unlisted.removeAll(listed);
            throw new IllegalArgumentException("tensors " + unlisted + " are not listed in the metadata");
        }
        List<Entry> byOffset = new ArrayList<>();
        entries.forEach(byOffset::addAll);
        byOffset.sort((a, b) -> a.begin() != b.begin() ? Long.compare(a.begin(), b.begin())
                : Long.compare(a.end(), b.end()));
        long covered = 0;
        for (Entry e : byOffset) {
            if (e.begin() != covered) {
                throw new IllegalArgumentException("the tensors' data_offsets leave a gap or overlap at byte "
                        + Math.min(e.begin(), covered) + " (" + e.name() + " begins at " + e.begin() + ")");
            }
            covered = e.end();
        }
        if (covered != data.limit()) {
            throw new IllegalArgumentException((covered > data.limit() ? "truncated" : "trailing bytes") + ": the "
                    + "tensors take " + covered + " bytes, the file holds " + data.limit() + " after the header");
        }
        long crc = checksum(header, data);
        if (!Long.toString(crc).equals(meta.get("crc32c"))) {
            throw new IllegalArgumentException("corrupt: the CRC-32C of the header and tensors is " + crc + ", the "
                    + "file records " + meta.get("crc32c"));
        }
        long steps = counter(meta, "steps");
        long skipped = counter(meta, "skippedSteps");
        if (skipped > steps) {
            throw new IllegalArgumentException("__metadata__.skippedSteps " + skipped + " exceeds steps " + steps);
        }
        if (replicated(meta)) {
            required(meta, REPLICAS, "__metadata__");
            long replicas = counter(meta, REPLICAS);
            if (replicas < 2 || replicas > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("__metadata__.replicas is " + replicas + ", expected a number of "
                        + "replicas from 2 to " + Integer.MAX_VALUE + " in a checkpoint of format \"" + FORMAT_REPLICAS
                        + "\"");
            }
        }
        asObject(Json.parse(meta.get("optimizer")));
        List<Group> groups = new ArrayList<>();
        for (int g = 0; g < PREFIXES.size(); g++) {
            List<HostTensor> values = new ArrayList<>();
            for (Entry e : entries.get(g)) {
                values.add(values(e, data));
            }
            groups.add(new Group(PREFIXES.get(g), names.get(g), values));
        }
        return new Checkpoint(meta, groups.get(0), groups.get(1), groups.get(2));
    }

    private static Entry entry(String name, Map<String, Object> entry, String dtype) {
        Object tensorType = required(entry, "dtype", name);
        if (!dtype.equals(tensorType)) {
            throw new IllegalArgumentException(name + ".dtype is " + Json.write(tensorType) + ", the metadata says "
                    + dtype);
        }
        int width = dtype.equals("F32") ? 4 : 8;
        List<Object> shapeList = asList(required(entry, "shape", name), name + ".shape");
        int[] shape = new int[shapeList.size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = (int) whole(shapeList.get(i), name + ".shape", Integer.MAX_VALUE);
            count *= shape[i];
            if (count > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(name + ".shape " + shapeList + " is too large");
            }
        }
        List<Object> offsets = asList(required(entry, "data_offsets", name), name + ".data_offsets");
        if (offsets.size() != 2) {
            throw new IllegalArgumentException(name + ".data_offsets must be [begin, end]");
        }
        long begin = whole(offsets.get(0), name + ".data_offsets", Long.MAX_VALUE / 2);
        long end = whole(offsets.get(1), name + ".data_offsets", Long.MAX_VALUE / 2);
        if (end - begin != count * width) {
            throw new IllegalArgumentException(name + ": data_offsets [" + begin + ", " + end + "] do not hold "
                    + count + " " + dtype + " values of shape " + Arrays.toString(shape));
        }
        return new Entry(name, width, shape, begin, end);
    }

    /** The values of a checked entry; a non-finite one is an error. */
    private static HostTensor values(Entry e, ByteBuffer data) {
        double[] values = new double[(int) ((e.end() - e.begin()) / e.width())];
        for (int i = 0; i < values.length; i++) {
            int at = (int) e.begin() + i * e.width();
            values[i] = e.width() == 4 ? data.getFloat(at) : data.getDouble(at);
            if (!Double.isFinite(values[i])) {
                throw new IllegalArgumentException(e.name() + " element " + i + " is " + values[i]
                        + ": a checkpoint holds finite values only");
            }
        }
        return new HostTensor(e.shape(), values);
    }

    private static long whole(Object value, String path, long max) {
        if (!(value instanceof java.math.BigDecimal d) || d.signum() < 0 || d.stripTrailingZeros().scale() > 0
                || d.compareTo(java.math.BigDecimal.valueOf(max)) > 0) {
            throw new IllegalArgumentException(path + " holds " + value + ", expected a whole number in [0, " + max
                    + "]");
        }
        return d.longValueExact();
    }

    private static long counter(Map<String, String> meta, String key) {
        try {
            long v = Long.parseLong(meta.get(key));
            if (v >= 0) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("__metadata__." + key + " is '" + meta.get(key)
                + "', expected a whole number >= 0");
    }

    private static Object required(Map<String, ?> object, String key, String where) {
        Object v = object.get(key);
        if (v == null) {
            throw new IllegalArgumentException(where + " has no " + key);
        }
        return v;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asObject(Object value) {
        if (!(value instanceof Map)) {
            throw new IllegalArgumentException("expected a JSON object, got " + Json.write(value));
        }
        return (Map<String, Object>) value;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> asList(Object value, String path) {
        if (!(value instanceof List)) {
            throw new IllegalArgumentException(path + " must be a JSON array");
        }
        return (List<Object>) value;
    }

    private static String dtype(List<Group> groups) {
        for (Group g : groups) {
            for (HostTensor t : g.tensors()) {
                for (double v : t.values()) {
                    if ((double) (float) v != v) {
                        return "F64";
                    }
                }
            }
        }
        return "F32";
    }

    private static String readLibraryVersion() {
        try (InputStream in = Checkpoint.class.getResourceAsStream("library.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
