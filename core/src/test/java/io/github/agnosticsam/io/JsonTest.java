package io.github.agnosticsam.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
    private static Map<String, Object> map(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }

    /** The message of the JsonException that parsing {@code text} throws. */
    private static String error(String text) {
        try {
            Json.parse(text);
        } catch (Json.JsonException e) {
            return e.getMessage();
        }
        throw new AssertionError("parsed without an error: " + text);
    }

    // Reading and writing back.

    @Test
    void nestedDocumentsRoundTripWithTheirKeyOrder() {
        Object doc = map(
                "z", List.of(new BigDecimal("1"), new BigDecimal("-2.50"), new BigDecimal("1E+400"),
                        new BigDecimal("12345678901234567890123.000000000000000000001")),
                "a", map("empty", map(), "list", List.of(), "deep", List.of(List.of(map("k", Arrays.asList(
                        true, false, null))))),
                "s", "quote \" backslash \\ slash / tab \t é 😀 \u2028",
                "nothing", null);
        for (boolean indent : new boolean[] {false, true}) {
            Object back = Json.parse(Json.write(doc, indent));
            assertThat(back).as("indent %s", indent).isEqualTo(doc);
            assertThat(new ArrayList<Object>(((Map<?, ?>) back).keySet())).containsExactly("z", "a", "s", "nothing");
            assertThat(back).isInstanceOf(LinkedHashMap.class);
            assertThat(((Map<?, ?>) back).get("z")).isInstanceOf(ArrayList.class);
        }
    }

    @Test
    void doublesReadBackToTheSameBits() {
        double[] values = {0.1, 1e-300, 4.9e-324, Double.MIN_NORMAL, Double.MAX_VALUE, -Double.MAX_VALUE, 1 / 3.0,
            2.0 / 3e-17, 123456789.123456789, 1e21, 1e22, 1e23, -5e-324, 0.0};
        for (double v : values) {
            String text = Json.write(List.of(v));
            double back = ((BigDecimal) ((List<?>) Json.parse(text)).get(0)).doubleValue();
            assertThat(Double.doubleToRawLongBits(back)).as(text).isEqualTo(Double.doubleToRawLongBits(v));
        }
        // The text keeps the sign of -0.0; a BigDecimal has no signed zero, so the parsed value is 0.
        assertThat(Json.write(-0.0)).isEqualTo("-0.0");
        assertThat(Double.parseDouble(Json.write(-0.0))).isEqualTo(-0.0);
        assertThat(((BigDecimal) Json.parse("-0.0")).signum()).isZero();
    }

    @Test
    void integersAndOtherNumbersAreWrittenExactly() {
        assertThat(((BigDecimal) Json.parse(Json.write(Long.MAX_VALUE))).longValueExact()).isEqualTo(Long.MAX_VALUE);
        assertThat(((BigDecimal) Json.parse(Json.write(Long.MIN_VALUE))).longValueExact()).isEqualTo(Long.MIN_VALUE);
        assertThat(Json.write(List.of(7, -3L, (short) 2, new BigInteger("123456789012345678901234567890"), 0.1f,
                new BigDecimal("2.50"), 1e22))).isEqualTo("[7,-3,2,123456789012345678901234567890,0.1,2.50,1.0E22]");
    }

    @Test
    void numbersBeyondADoubleAreValuesNotErrors() {
        assertThat(((BigDecimal) Json.parse("1e400")).doubleValue()).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(((BigDecimal) Json.parse("-1" + "0".repeat(400))).doubleValue())
                .isEqualTo(Double.NEGATIVE_INFINITY);
        assertThat(((BigDecimal) Json.parse("1e-400")).doubleValue()).isZero();
        assertThat(Json.parse("-0.5E+2")).isEqualTo(new BigDecimal("-5E+1"))
                .satisfies(n -> assertThat(((BigDecimal) n).intValueExact()).isEqualTo(-50));
    }

    @Test
    void theWriterOutputIsCompactOrOneMemberPerLine() {
        Object doc = map("a", List.of(1, 2.5, "x"), "b", map(), "c", List.of(), "d", map("e", null, "f", true));
        assertThat(Json.write(doc)).isEqualTo("{\"a\":[1,2.5,\"x\"],\"b\":{},\"c\":[],\"d\":{\"e\":null,\"f\":true}}");
        assertThat(Json.write(doc, true)).isEqualTo("""
                {
                  "a": [
                    1,
                    2.5,
                    "x"
                  ],
                  "b": {},
                  "c": [],
                  "d": {
                    "e": null,
                    "f": true
                  }
                }""");
        assertThat(Json.write("top")).isEqualTo("\"top\"");
        assertThat(Json.write(null)).isEqualTo("null");
    }

    // Strings.

    @Test
    void everyControlCharacterIsEscapedAndReadsBack() {
        StringBuilder all = new StringBuilder();
        StringBuilder escaped = new StringBuilder("\"");
        for (char c = 0; c < 0x20; c++) {
            all.append(c);
            escaped.append(String.format("\\u%04X", (int) c));
        }
        all.append("\"\\");
        escaped.append("\\\"\\\\\"");
        assertThat(Json.write(all.toString())).isEqualTo(escaped.toString());
        assertThat(Json.parse(Json.write(all.toString()))).isEqualTo(all.toString());
        assertThat(Json.write("\u007f \u2028 é")).as("only what JSON requires is escaped").isEqualTo("\"\u007f \u2028 é\"");
    }

    @Test
    void escapesIncludingSurrogatePairsAreRead() {
        assertThat(Json.parse("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"")).isEqualTo("\" \\ / \b \f \n \r \t");
        assertThat(Json.parse("\"\\u00e9\\u00C9\\u0041\"")).isEqualTo("éÉA");
        assertThat(Json.parse("\"\\uD83D\\uDE00\"")).isEqualTo("😀").isEqualTo("\uD83D\uDE00");
        assertThat(Json.parse("\"😀\"")).isEqualTo("😀");
        assertThat(Json.parse("\"\\uD800 \\uDC00\"")).as("lone surrogates stay as Java chars").isEqualTo("\uD800 \uDC00");
        assertThat(Json.parse("\"\\u0000\"")).isEqualTo("\0");
    }

    @Test
    void badStringsAreErrorsAtTheirPlace() {
        assertThat(error("[\"a\\xb\"]")).isEqualTo("at $[0] (line 1, column 4): invalid escape; JSON has \\\" \\\\ \\/ "
                + "\\b \\f \\n \\r \\t and \\uXXXX");
        assertThat(error("{\"k\": \"a\tb\"}")).startsWith("at $.k (line 1, column 9): control character U+0009 in a "
                + "string");
        assertThat(error("\"a\nb\"")).startsWith("at $ (line 1, column 3): control character U+000A");
        assertThat(error("\"\\u12g4\"")).isEqualTo("at $ (line 1, column 2): \\u must be followed by four hex digits");
        assertThat(error("\"\\u12")).isEqualTo("at $ (line 1, column 2): \\u must be followed by four hex digits");
        assertThat(error("\"\\u１２３４\"")).as("ASCII hex digits only").contains("four hex digits");
        assertThat(error("[1, \"abc")).isEqualTo("at $[1] (line 1, column 5): the string is not closed (no '\"' "
                + "before the end of the text)");
        assertThat(error("\"\\")).contains("invalid escape");
    }

    // Errors.

    @Test
    void errorsNameThePathLineAndColumn() {
        Json.JsonException e = (Json.JsonException) org.assertj.core.api.Assertions.catchThrowable(() -> Json.parse("""
                {"steps": [
                  {"x": [1, 2]},
                  {"x": [1, 2 3]}
                ]}"""));
        assertThat(e).hasMessage("at $.steps[1].x (line 3, column 15): expected ',' or ']', got '3'");
        assertThat(e.path()).isEqualTo("$.steps[1].x");
        assertThat(e.line()).isEqualTo(3);
        assertThat(e.column()).isEqualTo(15);
        assertThat(e).isInstanceOf(IllegalArgumentException.class);

        assertThat(error("[1, 2")).isEqualTo("at $ (line 1, column 6): expected ',' or ']', got the end of the text");
        assertThat(error("{\"a\": 1 \"b\": 2}")).isEqualTo("at $ (line 1, column 9): expected ',' or '}', got '\"'");
        assertThat(error("{\"a\" 1}")).isEqualTo("at $.a (line 1, column 6): expected ':' after the key, got '1'");
        assertThat(error("{\"a\": 1,}")).isEqualTo("at $ (line 1, column 9): expected a key (a string), got '}'");
        assertThat(error("{a: 1}")).isEqualTo("at $ (line 1, column 2): expected a key (a string), got 'a'");
        assertThat(error("[1,]")).isEqualTo("at $[1] (line 1, column 4): expected a JSON value, got ']'");
        assertThat(error("{\"a\": [tru]}")).isEqualTo("at $.a[0] (line 1, column 8): expected true (or another JSON "
                + "value)");
        assertThat(error("nul")).isEqualTo("at $ (line 1, column 1): expected null (or another JSON value)");
        assertThat(error("{\"a b\": {\"c\\n\": x}}")).as("keys that are not names are quoted")
                .isEqualTo("at $[\"a b\"][\"c\\u000A\"] (line 1, column 17): expected a JSON value, got 'x'");
        assertThat(error("[\u0001]")).isEqualTo("at $[0] (line 1, column 2): expected a JSON value, got U+0001");
    }

    @Test
    void emptyTextIsAnError() {
        assertThat(error("")).isEqualTo("at $ (line 1, column 1): expected a JSON value, got the end of the text");
        assertThat(error(" \n\t ")).isEqualTo("at $ (line 2, column 3): expected a JSON value, got the end of the text");
    }

    @Test
    void aDuplicateKeyIsAnErrorNamingItsPath() {
        assertThat(error("{\"a\": {\"b\": 1,\n  \"b\": 2}}")).isEqualTo("at $.a.b (line 2, column 3): duplicate key \"b\"");
        assertThat(error("{\"x\": [{}, {\"\": 1, \"\": 2}]}")).startsWith("at $.x[1][\"\"] ")
                .endsWith("duplicate key \"\"");
        assertThat(Json.parse("[{\"a\": 1}, {\"a\": 2}]")).as("the same key in two objects is fine")
                .isEqualTo(List.of(map("a", BigDecimal.ONE), map("a", new BigDecimal(2))));
    }

    @Test
    void contentAfterTheValueIsAnError() {
        assertThat(Json.parse(" {\"a\": 1} \r\n\t ")).as("white space around the value is fine")
                .isEqualTo(map("a", BigDecimal.ONE));
        assertThat(error("{\"a\": 1}\n{}")).isEqualTo("at $ (line 2, column 1): content after the JSON value, which "
                + "ends at line 1, column 8; expected one JSON value");
        assertThat(error("1 2")).startsWith("at $ (line 1, column 3): content after the JSON value");
        assertThat(error("[] ]")).startsWith("at $ (line 1, column 4): content after the JSON value");
        assertThat(error("truex")).startsWith("at $ (line 1, column 5): content after the JSON value");
        assertThat(error("\"a\" \u00a0")).as("no-break space is not JSON white space")
                .startsWith("at $ (line 1, column 5): content after");
    }

    @Test
    void numbersOutsideTheJsonGrammarAreErrors() {
        assertThat(error("01")).isEqualTo("at $ (line 1, column 2): a JSON number has no leading zero");
        assertThat(error("[-00.5]")).isEqualTo("at $[0] (line 1, column 4): a JSON number has no leading zero");
        assertThat(error("+1")).isEqualTo("at $ (line 1, column 1): expected a JSON value, got '+' (JSON numbers have "
                + "no NaN, Infinity, '+' or leading '.')");
        assertThat(error(".5")).contains("got '.' (JSON numbers have");
        assertThat(error("NaN")).contains("got 'N' (JSON numbers have");
        assertThat(error("[Infinity]")).startsWith("at $[0] (line 1, column 2)").contains("got 'I' (JSON numbers");
        assertThat(error("-Infinity")).isEqualTo("at $ (line 1, column 2): expected a digit, got 'I'");
        assertThat(error("1.")).isEqualTo("at $ (line 1, column 3): expected a digit after '.', got the end of the text");
        assertThat(error("1.e5")).isEqualTo("at $ (line 1, column 3): expected a digit after '.', got 'e'");
        assertThat(error("1e")).isEqualTo("at $ (line 1, column 3): expected a digit in the exponent, got the end of "
                + "the text");
        assertThat(error("1e+")).contains("expected a digit in the exponent");
        assertThat(error("-")).isEqualTo("at $ (line 1, column 2): expected a digit, got the end of the text");
        assertThat(error("0x10")).contains("content after the JSON value");
        assertThat(error("[1" + "0".repeat(1000) + "]"))
                .isEqualTo("at $[0] (line 1, column 2): a number longer than 1000 characters");
        assertThat(Json.parse("1" + "0".repeat(999))).isEqualTo(new BigDecimal("1" + "0".repeat(999)));
        assertThat(error("{\"n\": 1e99999999999}"))
                .isEqualTo("at $.n (line 1, column 7): the exponent of 1e99999999999 is out of range");
    }

    @Test
    void nestingIsLimitedTo256WithoutAStackOverflow() {
        assertThat(Json.parse("[".repeat(256) + "]".repeat(256))).isInstanceOf(List.class);
        assertThat(Json.parse("{\"a\":".repeat(255) + "[1]" + "}".repeat(255))).isInstanceOf(Map.class);
        assertThat(error("[".repeat(257) + "]".repeat(257))).isEqualTo("at $" + "[0]".repeat(256)
                + " (line 1, column 257): nesting deeper than 256 arrays and objects");
        assertThat(error("[".repeat(100_000))).endsWith("(line 1, column 257): nesting deeper than 256 arrays and "
                + "objects");
        assertThat(error("{\"a\":".repeat(100_000))).startsWith("at $.a.a.a.").endsWith("nesting deeper than 256 "
                + "arrays and objects");
    }

    // Writing errors.

    @Test
    void aNumberJsonCannotHoldIsAnErrorNamingItsPath() {
        assertThatThrownBy(() -> Json.write(map("runs", List.of(map("loss", 0.5), map("loss", Double.NaN)))))
                .isExactlyInstanceOf(IllegalArgumentException.class)
                .hasMessage("at $.runs[1].loss: NaN is not a JSON number (JSON has no NaN or Infinity)");
        assertThatThrownBy(() -> Json.write(List.of(Double.NEGATIVE_INFINITY), true))
                .hasMessage("at $[0]: -Infinity is not a JSON number (JSON has no NaN or Infinity)");
        assertThatThrownBy(() -> Json.write(map("f", Float.POSITIVE_INFINITY)))
                .hasMessage("at $.f: Infinity is not a JSON number (JSON has no NaN or Infinity)");
    }

    @Test
    void valuesJsonHasNoTypeForAreErrorsNamingTheirPath() {
        Map<Object, Object> numberKey = new LinkedHashMap<>();
        numberKey.put(1, "one");
        assertThatThrownBy(() -> Json.write(map("m", numberKey)))
                .hasMessage("at $.m: a key must be a String, got 1");
        assertThatThrownBy(() -> Json.write(map("when", List.of(java.time.Duration.ZERO))))
                .hasMessage("at $.when[0]: cannot write a java.time.Duration as JSON");
        assertThatThrownBy(() -> Json.write(new double[] {1}))
                .hasMessage("at $: cannot write a [D as JSON");
        List<Object> loop = new ArrayList<>();
        loop.add(loop);
        assertThatThrownBy(() -> Json.write(loop)).isExactlyInstanceOf(IllegalArgumentException.class)
                .hasMessageEndingWith("nesting deeper than 256 (a map or list that holds itself?)");
        List<Object> deep = new ArrayList<>();
        for (int i = 0; i < 255; i++) {
            deep = new ArrayList<>(List.of(deep));
        }
        assertThat(Json.parse(Json.write(deep))).as("256 levels are written and read").isEqualTo(deep);
    }
}
