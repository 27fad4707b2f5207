package io.github.agnosticsam.tensorboard;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * The protocol-buffer encoding of the few TensorFlow messages an event file needs (tensorflow/core
 * /util/event.proto, framework/summary.proto, tensor.proto): fields by number, as the wire format
 * defines them. Event: wall_time 1, step 2, file_version 3, summary 5. Summary: value 1. Value: tag
 * 1, simple_value 2, image 4, histo 5, tensor 8, metadata 9.
 */
final class Proto {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    private Proto() {
    }

    static byte[] build(Consumer<Proto> fields) {
        Proto p = new Proto();
        fields.accept(p);
        return p.out.toByteArray();
    }

    /** An Event at {@code step} with the given fields besides wall_time and step. */
    static byte[] event(double wallTime, long step, Consumer<Proto> fields) {
        return build(e -> {
            e.float64(1, wallTime);
            if (step != 0) {
                e.int64(2, step);
            }
            fields.accept(e);
        });
    }

    /** A Summary.Value with its tag and the given fields. */
    static byte[] value(String tag, Consumer<Proto> fields) {
        return build(v -> {
            v.string(1, tag);
            fields.accept(v);
        });
    }

    Proto int64(int field, long value) {
        key(field, 0);
        varint(value);
        return this;
    }

    Proto float64(int field, double value) {
        key(field, 1);
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(value).array());
        return this;
    }

    Proto float32(int field, float value) {
        key(field, 5);
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(value).array());
        return this;
    }

    Proto string(int field, String value) {
        return bytes(field, value.getBytes(StandardCharsets.UTF_8));
    }

    Proto bytes(int field, byte[] value) {
        key(field, 2);
        varint(value.length);
        out.writeBytes(value);
        return this;
    }

    Proto message(int field, Consumer<Proto> fields) {
        return bytes(field, build(fields));
    }

    /** A packed repeated double. */
    Proto packed(int field, double[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (double v : values) {
            b.putDouble(v);
        }
        return bytes(field, b.array());
    }

    private void key(int field, int wireType) {
        varint(((long) field << 3) | wireType);
    }

    private void varint(long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    /** An Event's step (0 when absent). */
    static long step(byte[] event) {
        long[] found = {0};
        fields(event, (field, wire, value, at, length) -> {
            if (field == 2 && wire == 0) {
                found[0] = value;
            }
        });
        return found[0];
    }

    /** Whether an Event is the file_version header. */
    static boolean isFileVersion(byte[] event) {
        boolean[] found = {false};
        fields(event, (field, wire, value, at, length) -> found[0] |= field == 3 && wire == 2);
        return found[0];
    }

    interface FieldVisitor {
        /** A field: its number and wire type, a varint's value, or where a length-delimited one's bytes are. */
        void field(int field, int wire, long value, int at, int length);
    }

    /** Walks the top-level fields of a message; a malformed one ends the walk. */
    static void fields(byte[] message, FieldVisitor visitor) {
        int[] pos = {0};
        while (pos[0] < message.length) {
            long key = readVarint(message, pos);
            if (key < 0) {
                return;
            }
            int field = (int) (key >>> 3);
            int wire = (int) (key & 7);
            switch (wire) {
                case 0 -> {
                    long v = readVarint(message, pos);
                    visitor.field(field, wire, v, -1, 0);
                }
                case 1 -> {
                    visitor.field(field, wire, 0, pos[0], 8);
                    pos[0] += 8;
                }
                case 5 -> {
                    visitor.field(field, wire, 0, pos[0], 4);
                    pos[0] += 4;
                }
                case 2 -> {
                    long length = readVarint(message, pos);
                    if (length < 0 || pos[0] + length > message.length) {
                        return;
                    }
                    visitor.field(field, wire, 0, pos[0], (int) length);
                    pos[0] += (int) length;
                }
                default -> {
                    return;
                }
            }
        }
    }

    private static long readVarint(byte[] b, int[] pos) {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos[0] >= b.length) {
                return -1;
            }
            int x = b[pos[0]++] & 0xFF;
            v |= (long) (x & 0x7F) << shift;
            if ((x & 0x80) == 0) {
                return v;
            }
        }
        return -1;
    }
}
