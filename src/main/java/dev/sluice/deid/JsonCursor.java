package dev.sluice.deid;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A strict JSON tokenizer over UTF-8 bytes in place: each token is a span of the input, and a string is decoded only
 * when asked ({@link #text}). The walk reads most values only to write them back, so it never makes most of those
 * strings. Anything Jackson's default parser would refuse, and anything it would read in a way this one does not
 * (invalid UTF-8, nesting deeper than {@link #MAX_DEPTH}), is refused by throwing {@link JsonElement.Undecidable}:
 * the model engine then decides the resource. A name or string with an escape is read, but not {@link #plain}: the
 * walk refuses such member names and decodes such values.
 */
final class JsonCursor {

    enum Token { START_OBJECT, END_OBJECT, START_ARRAY, END_ARRAY, NAME, STRING, NUMBER, TRUE, FALSE, NULL, END }

    /** Deeper resources are left to the model engine; FHIR's own nesting is far shallower. */
    static final int MAX_DEPTH = 256;

    /** Strings are scanned eight bytes at a time while none of them needs a look (most of a resource is strings). */
    private static final VarHandle WORDS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;

    private final byte[] json;
    private final int limit;
    private int pos;
    /** Grown as deep as the resource goes, up to {@link #MAX_DEPTH}. */
    private byte[] containers = new byte[16];
    private int depth;
    /** The last token ended a value: a comma or a closer comes next. */
    private boolean afterValue;
    /** Just after '{' or '[': the container may close at once. */
    private boolean mayClose;
    /** Inside an object, where a member name comes next. */
    private boolean expectName;
    private int start;
    private int end;
    private boolean plain;

    JsonCursor(byte[] json, int offset, int length) {
        this.json = json;
        this.pos = offset;
        this.limit = offset + length;
    }

    byte[] source() {
        return json;
    }

    /** Where the current token's value starts: inside the quotes for a name or a string. */
    int start() {
        return start;
    }

    int end() {
        return end;
    }

    /**
     * Whether the current name or string has no escape and no character beyond U+FFFF (which Jackson writes as an
     * escaped surrogate pair): its bytes (valid UTF-8, no control character) are then exactly what Jackson writes
     * for its value, and can be copied.
     */
    boolean plain() {
        return plain;
    }

    Token next() {
        skipWhitespace();
        if (afterValue) {
            if (depth == 0) {
                if (pos == limit) {
                    return Token.END;
                }
                throw JsonElement.Undecidable.INSTANCE;
            }
            byte b = at(pos);
            if (b == '}' || b == ']') {
                return close(b);
            }
            if (b != ',') {
                throw JsonElement.Undecidable.INSTANCE;
            }
            pos++;
            skipWhitespace();
            afterValue = false;
            expectName = containers[depth - 1] == '{';
        } else if (mayClose) {
            byte b = at(pos);
            if (b == '}' || b == ']') {
                return close(b);
            }
        }
        mayClose = false;
        byte b = at(pos);
        if (expectName) {
            if (b != '"') {
                throw JsonElement.Undecidable.INSTANCE;
            }
            string();
            skipWhitespace();
            if (at(pos) != ':') {
                throw JsonElement.Undecidable.INSTANCE;
            }
            pos++;
            expectName = false;
            return Token.NAME;
        }
        switch (b) {
            case '{' -> {
                open(b);
                expectName = true;
                return Token.START_OBJECT;
            }
            case '[' -> {
                open(b);
                return Token.START_ARRAY;
            }
            case '"' -> {
                string();
                afterValue = true;
                return Token.STRING;
            }
            case 't' -> {
                return literal("true", Token.TRUE);
            }
            case 'f' -> {
                return literal("false", Token.FALSE);
            }
            case 'n' -> {
                return literal("null", Token.NULL);
            }
            default -> {
                number();
                afterValue = true;
                return Token.NUMBER;
            }
        }
    }

    /** Whether the current name or string is exactly these ASCII characters (as written, without escapes). */
    boolean is(byte[] ascii) {
        return plain && Arrays.equals(json, start, end, ascii, 0, ascii.length);
    }

    /** The current string, number or literal as text: strings decoded, escapes resolved. */
    String text() {
        return decode(json, start, end, plain);
    }

    /** The value of a string's span as {@link #next} left it: plain (no escape) or not. */
    static String decode(byte[] json, int start, int end, boolean plain) {
        if (plain) {
            // the JDK copies an all-ASCII span as Latin-1 itself (it counts the leading ASCII bytes first)
            return new String(json, start, end - start, StandardCharsets.UTF_8);
        }
        StringBuilder text = new StringBuilder(end - start);
        int run = start;
        for (int i = start; i < end; i++) {
            if (json[i] != '\\') {
                continue;
            }
            // between escapes the bytes are whole UTF-8 sequences: an escape is ASCII and never inside one
            text.append(new String(json, run, i - run, StandardCharsets.UTF_8));
            byte e = json[++i];
            switch (e) {
                case '"', '\\', '/' -> text.append((char) e);
                case 'b' -> text.append('\b');
                case 'f' -> text.append('\f');
                case 'n' -> text.append('\n');
                case 'r' -> text.append('\r');
                case 't' -> text.append('\t');
                case 'u' -> {
                    text.append((char) (hex(json[i + 1]) << 12 | hex(json[i + 2]) << 8 | hex(json[i + 3]) << 4 | hex(json[i + 4])));
                    i += 4;
                }
                default -> throw JsonElement.Undecidable.INSTANCE;
            }
            run = i + 1;
        }
        text.append(new String(json, run, end - run, StandardCharsets.UTF_8));
        return text.toString();
    }

    private static int hex(byte b) {
        if (b >= '0' && b <= '9') {
            return b - '0';
        }
        if (b >= 'a' && b <= 'f') {
            return b - 'a' + 10;
        }
        if (b >= 'A' && b <= 'F') {
            return b - 'A' + 10;
        }
        throw JsonElement.Undecidable.INSTANCE;
    }

    private byte at(int i) {
        if (i >= limit) {
            throw JsonElement.Undecidable.INSTANCE;
        }
        return json[i];
    }

    private void skipWhitespace() {
        while (pos < limit) {
            byte b = json[pos];
            if (b != ' ' && b != '\n' && b != '\r' && b != '\t') {
                return;
            }
            pos++;
        }
    }

    private void open(byte container) {
        if (depth == containers.length) {
            if (depth == MAX_DEPTH) {
                throw JsonElement.Undecidable.INSTANCE;
            }
            containers = Arrays.copyOf(containers, Math.min(MAX_DEPTH, depth * 2));
        }
        containers[depth++] = container;
        pos++;
        mayClose = true;
        afterValue = false;
    }

    private Token close(byte closer) {
        byte container = depth == 0 ? 0 : containers[depth - 1];
        if (closer == '}' ? container != '{' : container != '[') {
            throw JsonElement.Undecidable.INSTANCE;
        }
        depth--;
        pos++;
        afterValue = true;
        mayClose = false;
        expectName = false;
        return closer == '}' ? Token.END_OBJECT : Token.END_ARRAY;
    }

    private Token literal(String word, Token token) {
        for (int i = 0; i < word.length(); i++) {
            if (at(pos + i) != word.charAt(i)) {
                throw JsonElement.Undecidable.INSTANCE;
            }
        }
        start = pos;
        pos += word.length();
        end = pos;
        delimited();
        afterValue = true;
        return token;
    }

    /** A string from its opening quote: the span inside the quotes, checked, and whether it has an escape. */
    private void string() {
        int i = pos + 1;
        boolean escaped = false;
        boolean ascii = true;
        while (true) {
            if (i + Long.BYTES <= limit && plainAscii((long) WORDS.get(json, i))) {
                i += Long.BYTES;
                continue;
            }
            byte b = at(i);
            if (b == '"') {
                break;
            }
            if (b == '\\') {
                escaped = true;
                i = escape(i);
                continue;
            }
            if (b >= 0 && b < 0x20) {
                throw JsonElement.Undecidable.INSTANCE; // Jackson refuses a raw control character in a string
            }
            ascii &= b >= 0;
            i++;
        }
        start = pos + 1;
        end = i;
        pos = i + 1;
        // checked with or without an escape: decode would turn invalid UTF-8 into U+FFFD, which Jackson does not
        boolean supplementary = !ascii && validUtf8(json, start, end);
        plain = !escaped && !supplementary;
    }

    /** Whether none of eight bytes is a quote, a backslash, a control character or part of a UTF-8 sequence. */
    private static boolean plainAscii(long w) {
        return ((w & HIGHS) | (w - 0x20 * ONES & ~w & HIGHS) | zeroByte(w ^ '"' * ONES) | zeroByte(w ^ '\\' * ONES)) == 0;
    }

    /** Nonzero when one of the eight bytes is zero. */
    private static long zeroByte(long w) {
        return w - ONES & ~w & HIGHS;
    }

    /** Checks the escape at {@code i} (its backslash) as Jackson reads escapes; where it ends. */
    private int escape(int i) {
        switch (at(i + 1)) {
            case '"', '\\', '/', 'b', 'f', 'n', 'r', 't' -> {
                return i + 2;
            }
            case 'u' -> {
                for (int k = i + 2; k < i + 6; k++) {
                    hex(at(k));
                }
                return i + 6;
            }
            default -> throw JsonElement.Undecidable.INSTANCE;
        }
    }

    /**
     * Refuses anything but well-formed UTF-8: no overlong form, no surrogate, nothing past U+10FFFF. Whether there is
     * a character beyond U+FFFF.
     */
    private static boolean validUtf8(byte[] b, int from, int to) {
        boolean supplementary = false;
        int i = from;
        while (i < to) {
            int c = b[i] & 0xff;
            if (c < 0x80) {
                i++;
                continue;
            }
            int n;
            int min;
            if (c >= 0xC2 && c <= 0xDF) {
                n = 1;
                min = 0x80;
            } else if (c >= 0xE0 && c <= 0xEF) {
                n = 2;
                min = 0x800;
            } else if (c >= 0xF0 && c <= 0xF4) {
                n = 3;
                min = 0x10000;
            } else {
                throw JsonElement.Undecidable.INSTANCE;
            }
            if (i + n >= to) {
                throw JsonElement.Undecidable.INSTANCE;
            }
            int cp = c & (0x3F >> n);
            for (int k = 1; k <= n; k++) {
                int next = b[i + k] & 0xff;
                if ((next & 0xC0) != 0x80) {
                    throw JsonElement.Undecidable.INSTANCE;
                }
                cp = cp << 6 | next & 0x3F;
            }
            if (cp < min || cp > 0x10FFFF || cp >= 0xD800 && cp <= 0xDFFF) {
                throw JsonElement.Undecidable.INSTANCE;
            }
            supplementary |= n == 3;
            i += n + 1;
        }
        return supplementary;
    }

    /** A number as JSON's grammar has it: {@code -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?}. */
    private void number() {
        int i = pos;
        if (at(i) == '-') {
            i++;
        }
        if (at(i) == '0') {
            i++;
        } else {
            i = digits(i);
        }
        if (i < limit && json[i] == '.') {
            i = digits(i + 1);
        }
        if (i < limit && (json[i] == 'e' || json[i] == 'E')) {
            i++;
            if (at(i) == '+' || json[i] == '-') {
                i++;
            }
            i = digits(i);
        }
        start = pos;
        end = i;
        pos = i;
        delimited();
    }

    /** One or more digits from {@code i}; where they end. */
    private int digits(int i) {
        byte b = at(i);
        if (b < '0' || b > '9') {
            throw JsonElement.Undecidable.INSTANCE;
        }
        do {
            i++;
        } while (i < limit && json[i] >= '0' && json[i] <= '9');
        return i;
    }

    /** A number or literal must end at whitespace, a comma, a closer or the end ({@code 1x}, {@code truex} are refused). */
    private void delimited() {
        if (pos < limit) {
            byte b = json[pos];
            if (!(b == ' ' || b == '\n' || b == '\r' || b == '\t' || b == ',' || b == '}' || b == ']')) {
                throw JsonElement.Undecidable.INSTANCE;
            }
        }
    }
}
