package io.github.agnosticsam.io;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The project's one JSON reader and writer (RFC 8259), shared by the conformance kit (case files)
 * and the command line (reports); core depends on nothing, hence no library. Errors name the JSON
 * path of the place, such as {@code $.steps[3].x}.
 */
public final class Json {
    /** Deeper nesting is refused by both directions: the recursion stays far from a StackOverflowError. */
    /** Deep enough for any report or case; shallow enough that the recursion never nears the stack's end. */
    private static final int MAX_DEPTH = 256;
    /** Longer numbers are refused: parsing a BigDecimal costs time quadratic in its digits. */
    private static final int MAX_NUMBER_LENGTH = 1000;

    /**
     * Thrown for text that is not exactly one valid JSON value. The message starts with the JSON path
     * of the place ("$", "$.a.b[2]") and gives line and column, e.g.
     * {@code at $.steps[3].x (line 12, column 7): expected ',' or ']'}.
     */
    public static final class JsonException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        private final String path;
        private final int line;
        private final int column;

        private JsonException(String path, int line, int column, String what) {
            super("at " + path + " (line " + line + ", column " + column + "): " + what);
            this.path = path;
            this.line = line;
            this.column = column;
        }

        /** The JSON path of the place, "$" for the top level. */
        public String path() {
            return path;
        }

        /** The line of the place, from 1. */
        public int line() {
            return line;
        }

        /** The column of the place in characters (UTF-16 units), from 1. */
        public int column() {
            return column;
        }
    }

    private Json() {
    }

    /**
     * Parses exactly one JSON value: objects become {@code LinkedHashMap<String, Object>} in file
     * order, arrays {@code ArrayList<Object>}, strings {@code String}, numbers {@link BigDecimal} (their
     * exact text value; one beyond the range of a double is not an error here), true and false
     * {@code Boolean}, null a Java null. Content after the value (other than white space), a duplicate
     * key, nesting deeper than 256, numbers longer than 1000 characters and exponents beyond an int
     * are errors. Escapes may produce lone surrogates, as Java strings can hold them.
     *
     * @throws JsonException naming the path, line and column of the first error
     */
    public static Object parse(String text) {
        Parser p = new Parser(text);
        p.skipWhiteSpace();
        Object value = p.value();
        int end = p.pos - 1;
        p.skipWhiteSpace();
        if (p.pos < text.length()) {
            throw p.error("content after the JSON value, which ends at line " + p.line(end) + ", column "
                    + p.column(end) + "; expected one JSON value");
        }
        return value;
    }

    /**
     * Writes a value as compact JSON. It may be a {@code Map<String, ?>}, a {@code List<?>}, a String,
     * a Boolean, null, or a Number: doubles as {@link Double#toString(double)} (which reads back to the
     * same double), floats as {@link Float#toString(float)}, other numbers by their toString.
     *
     * @throws IllegalArgumentException naming the path of a NaN or infinite number, a key that is not
     *     a String, a value of another type, or nesting deeper than 256 (which parse would refuse)
     */
    public static String write(Object value) {
        return write(value, false);
    }

    /** As {@link #write(Object)}; {@code indent} puts one member per line, two spaces per level. */
    public static String write(Object value, boolean indent) {
        Writer w = new Writer(indent);
        w.value(value);
        return w.out.toString();
    }

    /** The path to where a parser or writer is: one key or index per level, turned into text on error. */
    private static final class Trail {
        private final Object[] steps = new Object[MAX_DEPTH];
        private int depth;

        void enter(Object keyOrIndex) {
            steps[depth++] = keyOrIndex;
        }

        void leave() {
            depth--;
        }

        @Override
        public String toString() {
            StringBuilder s = new StringBuilder("$");
            for (int i = 0; i < depth; i++) {
                if (steps[i] instanceof Integer index) {
                    s.append('[').append(index).append(']');
                } else if (isName((String) steps[i])) {
                    s.append('.').append(steps[i]);
                } else {
                    quote((String) steps[i], s.append('[')).append(']');
                }
            }
            return s.toString();
        }

        /** Keys that read unambiguously after a dot; others are quoted, so the path stays on one line. */
        private static boolean isName(String key) {
            return !key.isEmpty() && !Character.isDigit(key.charAt(0))
                    && key.chars().allMatch(c -> Character.isLetterOrDigit(c) || c == '_' || c == '$');
        }
    }

    private static final class Parser {
        private final String text;
        private final Trail trail = new Trail();
        private int pos;

        Parser(String text) {
            this.text = text;
        }

        Object value() {
            if (pos >= text.length()) {
                throw error("expected a JSON value, got the end of the text");
            }
            char c = text.charAt(pos);
            return switch (c) {
                case '{' -> object();
                case '[' -> array();
                case '"' -> string();
                case 't' -> literal("true", Boolean.TRUE);
                case 'f' -> literal("false", Boolean.FALSE);
                case 'n' -> literal("null", null);
                default -> {
                    if (c == '-' || (c >= '0' && c <= '9')) {
                        yield number();
                    }
                    throw error("expected a JSON value, got " + shown(c)
                            + (c == 'N' || c == 'I' || c == '+' || c == '.'
                                    ? " (JSON numbers have no NaN, Infinity, '+' or leading '.')" : ""));
                }
            };
        }

        private Map<String, Object> object() {
            open();
            Map<String, Object> map = new LinkedHashMap<>();
            if (next() == '}') {
                return close(map);
            }
            while (true) {
                if (next() != '"') {
                    throw error("expected a key (a string), got " + shownHere());
                }
                int keyAt = pos;
                String key = string();
                trail.enter(key);
                if (map.containsKey(key)) {
                    pos = keyAt;
                    throw error(quote(key, new StringBuilder("duplicate key ")).toString());
                }
                if (next() != ':') {
                    throw error("expected ':' after the key, got " + shownHere());
                }
                pos++;
                skipWhiteSpace();
                map.put(key, value());
                trail.leave();
                if (next() == '}') {
                    return close(map);
                }
                if (peek() != ',') {
                    throw error("expected ',' or '}', got " + shownHere());
                }
                pos++;
            }
        }

        private List<Object> array() {
            open();
            List<Object> list = new ArrayList<>();
            if (next() == ']') {
                return close(list);
            }
            while (true) {
                trail.enter(list.size());
                skipWhiteSpace();
                list.add(value());
                trail.leave();
                if (next() == ']') {
                    return close(list);
                }
                if (peek() != ',') {
                    throw error("expected ',' or ']', got " + shownHere());
                }
                pos++;
            }
        }

        /** Steps over '{' or '['; the trail has one step per array or object around this one. */
        private void open() {
            if (trail.depth == MAX_DEPTH) {
                throw error("nesting deeper than " + MAX_DEPTH + " arrays and objects");
            }
            pos++;
        }

        /** Steps over '}' or ']'. */
        private <T> T close(T container) {
            pos++;
            return container;
        }

        private String string() {
            int start = pos++;
            StringBuilder s = new StringBuilder();
            while (true) {
                if (pos >= text.length()) {
                    pos = start;
                    throw error("the string is not closed (no '\"' before the end of the text)");
                }
                char c = text.charAt(pos);
                if (c == '"') {
                    pos++;
                    return s.toString();
                }
                if (c < 0x20) {
                    throw error("control character " + shown(c) + " in a string; write it as an escape such as "
                            + "\\n or \\u001f");
                }
                if (c != '\\') {
                    s.append(c);
                    pos++;
                    continue;
                }
                char e = pos + 1 < text.length() ? text.charAt(pos + 1) : 0;
                switch (e) {
                    case '"', '\\', '/' -> s.append(e);
                    case 'b' -> s.append('\b');
                    case 'f' -> s.append('\f');
                    case 'n' -> s.append('\n');
                    case 'r' -> s.append('\r');
                    case 't' -> s.append('\t');
                    case 'u' -> {
                        s.append(hex4());
                        pos += 4;
                    }
                    default -> throw error("invalid escape; JSON has \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX");
                }
                pos += 2;
            }
        }

        /** The four hex digits after the "\\u" at pos, as a char. */
        private char hex4() {
            int v = 0;
            for (int i = pos + 2; i < pos + 6; i++) {
                // ASCII only: Character.digit also takes other scripts' digits
                int d = i < text.length() && text.charAt(i) < 0x80 ? Character.digit(text.charAt(i), 16) : -1;
                if (d < 0) {
                    throw error("\\u must be followed by four hex digits");
                }
                v = v * 16 + d;
            }
            return (char) v;
        }

        private BigDecimal number() {
            int start = pos;
            if (text.charAt(pos) == '-') {
                pos++;
            }
            if (peek() == '0') {
                pos++;
                if (isDigit(peek())) {
                    throw error("a JSON number has no leading zero");
                }
            } else {
                digits("a digit");
            }
            if (peek() == '.') {
                pos++;
                digits("a digit after '.'");
            }
            if (peek() == 'e' || peek() == 'E') {
                pos++;
                if (peek() == '+' || peek() == '-') {
                    pos++;
                }
                digits("a digit in the exponent");
            }
            if (pos - start > MAX_NUMBER_LENGTH) {
                pos = start;
                throw error("a number longer than " + MAX_NUMBER_LENGTH + " characters");
            }
            String number = text.substring(start, pos);
            try {
                return new BigDecimal(number);
            } catch (NumberFormatException e) { // the exponent is beyond what a BigDecimal holds (an int)
                pos = start;
                throw error("the exponent of " + number + " is out of range");
            }
        }

        private void digits(String what) {
            if (!isDigit(peek())) {
                throw error("expected " + what + ", got " + shownHere());
            }
            while (isDigit(peek())) {
                pos++;
            }
        }

        private Object literal(String word, Object value) {
            if (!text.startsWith(word, pos)) {
                throw error("expected " + word + " (or another JSON value)");
            }
            pos += word.length();
            return value;
        }

        /** The next character that is not white space (0 at the end of the text), left unread. */
        private char next() {
            skipWhiteSpace();
            return peek();
        }

        private char peek() {
            return pos < text.length() ? text.charAt(pos) : 0;
        }

        void skipWhiteSpace() {
            while (pos < text.length()) {
                char c = text.charAt(pos);
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                    return;
                }
                pos++;
            }
        }

        private static boolean isDigit(char c) {
            return c >= '0' && c <= '9';
        }

        private String shownHere() {
            return pos < text.length() ? shown(text.charAt(pos)) : "the end of the text";
        }

        private static String shown(char c) {
            return c < 0x20 || c == 0x7f ? String.format("U+%04X", (int) c) : "'" + c + "'";
        }

        JsonException error(String what) {
            return new JsonException(trail.toString(), line(pos), column(pos), what);
        }

        int line(int at) {
            int line = 1;
            for (int i = 0; i < at && i < text.length(); i++) {
                if (text.charAt(i) == '\n') {
                    line++;
                }
            }
            return line;
        }

        int column(int at) {
            return at - text.lastIndexOf('\n', at - 1);
        }
    }

    private static final class Writer {
        private final StringBuilder out = new StringBuilder();
        private final Trail trail = new Trail();
        private final boolean indent;

        Writer(boolean indent) {
            this.indent = indent;
        }

        void value(Object v) {
            if (v == null || v instanceof Boolean) {
                out.append(v);
            } else if (v instanceof String s) {
                quote(s, out);
            } else if (v instanceof Double d) {
                out.append(Double.toString(finite(d)));
            } else if (v instanceof Float f) {
                out.append(Float.toString((float) finite(f.doubleValue())));
            } else if (v instanceof Number n) {
                out.append(n);
            } else if (v instanceof Map<?, ?> map) {
                object(map);
            } else if (v instanceof List<?> list) {
                array(list);
            } else {
                throw error("cannot write a " + v.getClass().getName() + " as JSON");
            }
        }

        private void object(Map<?, ?> map) {
            open('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (!(e.getKey() instanceof String key)) {
                    throw error("a key must be a String, got " + e.getKey());
                }
                if (!first) {
                    out.append(',');
                }
                first = false;
                trail.enter(key);
                newLine();
                quote(key, out).append(indent ? ": " : ":");
                value(e.getValue());
                trail.leave();
            }
            close('}', map.isEmpty());
        }

        private void array(List<?> list) {
            open('[');
            int i = 0;
            for (Object element : list) {
                if (i > 0) {
                    out.append(',');
                }
                trail.enter(i++);
                newLine();
                value(element);
                trail.leave();
            }
            close(']', list.isEmpty());
        }

        private void open(char c) {
            if (trail.depth == MAX_DEPTH) {
                throw error("nesting deeper than " + MAX_DEPTH + " (a map or list that holds itself?)");
            }
            out.append(c);
        }

        private void close(char c, boolean empty) {
            if (!empty) {
                newLine();
            }
            out.append(c);
        }

        private void newLine() {
            if (indent) {
                out.append('\n').append("  ".repeat(trail.depth));
            }
        }

        private double finite(double v) {
            if (!Double.isFinite(v)) {
                throw error(v + " is not a JSON number (JSON has no NaN or Infinity)");
            }
            return v;
        }

        private IllegalArgumentException error(String what) {
            return new IllegalArgumentException("at " + trail + ": " + what);
        }
    }

    /** Appends s as a JSON string: quotes, backslashes and control characters escaped. */
    private static StringBuilder quote(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20) {
                out.append(String.format("\\u%04X", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.append('"');
    }
}
