package io.github.agnosticsam.examples;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.github.agnosticsam.io.Json;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

/**
 * Edits a checkpoint's metadata and seals it with a valid checksum, as docs/checkpoints.md defines
 * the file (8-byte header length, JSON header padded with spaces, data; crc32c over the compact
 * header without it, then the data): what a crafted or buggy writer could produce.
 */
final class CraftedCheckpoint {
    private CraftedCheckpoint() {
    }

    @SuppressWarnings("unchecked")
    static void editMetadata(Path file, Consumer<Map<String, Object>> edit) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        int length = (int) ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        Map<String, Object> header = (Map<String, Object>) Json.parse(new String(bytes, 8, length, UTF_8).strip());
        byte[] data = Arrays.copyOfRange(bytes, 8 + length, bytes.length);
        Map<String, Object> meta = (Map<String, Object>) header.get("__metadata__");
        edit.accept(meta);
        meta.remove("crc32c");
        CRC32C crc = new CRC32C();
        crc.update(Json.write(header).getBytes(UTF_8));
        crc.update(data);
        meta.put("crc32c", Long.toString(crc.getValue()));
        byte[] text = Json.write(header).getBytes(UTF_8);
        int padded = (text.length + 7) / 8 * 8;
        ByteBuffer out = ByteBuffer.allocate(8 + padded + data.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(text);
        for (int i = text.length; i < padded; i++) {
            out.put((byte) ' ');
        }
        Files.write(file, out.put(data).array());
    }

    /** Sets one option of the run's recorded {@code cli.options} to a JSON value. */
    @SuppressWarnings("unchecked")
    static void setOption(Path file, String option, Object value) throws IOException {
        editMetadata(file, meta -> {
            Map<String, Object> options = (Map<String, Object>) Json.parse((String) meta.get(TrainingRun.OPTIONS));
            options.put(option, value);
            meta.put(TrainingRun.OPTIONS, Json.write(options));
        });
    }
}
