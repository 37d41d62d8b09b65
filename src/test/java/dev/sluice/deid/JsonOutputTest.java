package dev.sluice.deid;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The walk's reading and writing of JSON text against Jackson's, which the model engine reads and writes with: every
 * string the walk writes, copied from the input or encoded, must be Jackson's bytes, and whatever Jackson would refuse
 * or read otherwise must be refused.
 */
class JsonOutputTest {

    private static final JsonFactory JACKSON = new JsonFactory();

    @Test
    void strings_are_escaped_as_jackson_escapes_them_for_every_character() throws IOException {
        StringBuilder every = new StringBuilder();
        for (char c = 0; c < 0xFFFF; c++) {
            if (!Character.isSurrogate(c)) {
                every.append(c);
            }
        }
        every.append('\uFFFF');
        List<String> texts = List.of(every.toString(), "", "a/b", "\u2028\u2029", "\u007f", "\u0000\u001f\b\t\n\f\r\"\\",
                "\ud83d\ude00 and \udbff\udfff", "lone \ud83d, \ude00 and \ude00\ud83d", "caf\u00e9 \u65e5\u672c");
        for (String text : texts) {
            JsonOutput out = new JsonOutput(16);
            out.string(text);
            assertThat(new String(out.toByteArray(), StandardCharsets.ISO_8859_1))
                    .isEqualTo(new String(jackson(text), StandardCharsets.ISO_8859_1));
        }
    }

    @Test
    void a_string_is_copied_only_when_its_bytes_are_what_jackson_writes() throws IOException {
        // input literal, whether the cursor may copy it as it stands
        List<Object[]> literals = List.of(
                new Object[] {"\"plain ascii\"", true},
                new Object[] {"\"longer than a word of eight bytes, twice over\"", true},
                new Object[] {"\"longer than a word of eight bytes \u00e9 and more\"", true},
                new Object[] {"\"longer than a word of eight bytes \\\" and more\"", false},
                new Object[] {"\"longer than a word of eight bytes \\\\ and more\"", false},
                new Object[] {"\"a/b\"", true},
                new Object[] {"\"caf\u00e9 \u2028 \u00ff\"", true},
                new Object[] {"\"caf\u00e9 \ud83d\ude00\"", false},
                new Object[] {"\"\"", true},
                new Object[] {"\"a\\/b\"", false},
                new Object[] {"\"\\u0041\"", false},
                new Object[] {"\"\\u00e9\\u00E9\"", false},
                new Object[] {"\"\\n\\t\\r\\b\\f\"", false},
                new Object[] {"\"\\u001f\\u001F\\u0000\"", false},
                new Object[] {"\"\\\"\\\\\"", false},
                new Object[] {"\"\\ud83d\\ude00\"", false},
                new Object[] {"\"\\u2028\"", false});
        for (Object[] literal : literals) {
            byte[] json = ((String) literal[0]).getBytes(StandardCharsets.UTF_8);
            JsonCursor cursor = new JsonCursor(json, 0, json.length);
            assertThat(cursor.next()).isEqualTo(JsonCursor.Token.STRING);
            assertThat(cursor.plain()).as(literal[0].toString()).isEqualTo(literal[1]);
            JsonOutput out = new JsonOutput(16);
            if (cursor.plain()) {
                out.copy(json, cursor.start() - 1, cursor.end() + 1);
            } else {
                out.string(cursor.text());
            }
            assertThat(cursor.next()).isEqualTo(JsonCursor.Token.END);
            String jacksonText;
            try (JsonParser p = JACKSON.createParser(json)) {
                p.nextToken();
                jacksonText = p.getText();
            }
            assertThat(cursor.text()).isEqualTo(jacksonText);
            assertThat(out.toByteArray()).as(literal[0].toString()).isEqualTo(jackson(jacksonText));
        }
    }

    @Test
    void input_jackson_refuses_or_reads_otherwise_is_refused() {
        List<byte[]> refused = List.of(
                utf8("\"a\u0001b\""), utf8("\"longer than a word\u001f\""), utf8("\"longer than a word\u0000 of bytes\""),
                bytes('"', 'l', 'o', 'n', 'g', 'e', 'r', ' ', 't', 'h', 'a', 'n', 0xC0, 0x80, '"'), utf8("\"a\nb\""), utf8("\"\\x\""), utf8("\"\\u00g0\""), utf8("[\"\\u12\",\"x\"]"), utf8("\"open"),
                bytes('"', 0xC0, 0x80, '"'), bytes('"', 0xED, 0xA0, 0x80, '"'), bytes('"', 0xF5, 0x80, 0x80, 0x80, '"'),
                bytes('"', 0xE2, 0x82, '"'), bytes('"', 0x80, '"'), bytes('"', 0xF0, 0x82, 0x82, 0xAC, '"'),
                // invalid UTF-8 in a string that also has an escape
                bytes('"', '\\', 'n', 0xC0, 0x80, '"'), bytes('"', 0x80, '\\', 't', '"'),
                bytes('"', '\\', '"', 0xED, 0xA0, 0x80, '"'), bytes('"', 'a', '\\', 'u', '0', '0', 'e', '9', 0xE2, 0x82, '"'),
                utf8("01"), utf8("1."), utf8(".5"), utf8("+1"), utf8("-"), utf8("1e"), utf8("1x"), utf8("NaN"), utf8("tru"),
                utf8("[1,]"), utf8("{\"a\":1,}"), utf8("{\"a\" 1}"), utf8("{a:1}"), utf8("[1 2]"), utf8("{\"a\":1]"),
                utf8("{} {}"), utf8("'a'"), utf8("[1]]"));
        for (byte[] json : refused) {
            assertThatThrownBy(() -> readAll(json)).as(new String(json, StandardCharsets.ISO_8859_1))
                    .isInstanceOf(JsonElement.Undecidable.class);
        }
    }

    @Test
    void well_formed_input_reads_to_its_end() {
        for (String json : List.of("{}", "[]", " { \"a\" : [ 1 , -0.5e+3 , true , false , null , { } , [ ] ] } ",
                "{\"a\":{\"b\":\"\\u00e9\"},\"c\":0}")) {
            readAll(utf8(json));
        }
    }

    private static void readAll(byte[] json) {
        JsonCursor cursor = new JsonCursor(json, 0, json.length);
        JsonCursor.Token token;
        do {
            token = cursor.next();
            if (token == JsonCursor.Token.STRING) {
                cursor.text();
            }
        } while (token != JsonCursor.Token.END);
    }

    private static byte[] jackson(String text) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = JACKSON.createGenerator(out)) {
            g.writeString(text);
        }
        return out.toByteArray();
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }
}
