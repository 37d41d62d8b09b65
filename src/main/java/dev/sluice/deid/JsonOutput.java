package dev.sluice.deid;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The JSON walk's output: minified JSON written straight to bytes. Strings are escaped exactly as Jackson's UTF-8
 * generator escapes them (the model engine writes with Jackson, and the walk must give its bytes): the two-letter
 * escapes for backspace, tab, newline, form feed and carriage return, a u escape with upper-case hex digits for the other
 * control characters, {@code \"} and {@code \\}, every surrogate (each half of a pair, or alone) as a u escape; everything else,
 * {@code /} and U+2028 included, as UTF-8. A span of
 * the input is copied as it stands only where the reader knows it is already those bytes ({@link JsonCursor#plain}).
 */
final class JsonOutput {

    private static final byte[] HEX = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);
    /** Per ASCII character: 0 when written as it is, else the letter after the backslash ('u' for a u escape). */
    private static final byte[] ESCAPES = new byte[128];

    static {
        for (int c = 0; c < 0x20; c++) {
            ESCAPES[c] = 'u';
        }
        ESCAPES['\b'] = 'b';
        ESCAPES['\t'] = 't';
        ESCAPES['\n'] = 'n';
        ESCAPES['\f'] = 'f';
        ESCAPES['\r'] = 'r';
        ESCAPES['"'] = '"';
        ESCAPES['\\'] = '\\';
    }

    private byte[] bytes;
    private int size;

    JsonOutput(int capacity) {
        this.bytes = new byte[Math.max(64, capacity)];
    }

    void write(byte b) {
        room(1);
        bytes[size++] = b;
    }

    void write(byte[] b) {
        copy(b, 0, b.length);
    }

    /** Bytes of the input as they stand: the reader vouches that they are what Jackson would write. */
    void copy(byte[] source, int start, int end) {
        int length = end - start;
        room(length);
        System.arraycopy(source, start, bytes, size, length);
        size += length;
    }

    /** A string as Jackson writes it. */
    void string(String text) {
        int n = text.length();
        room(n * 6 + 2);
        byte[] b = bytes;
        int at = size;
        b[at++] = '"';
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                byte escape = ESCAPES[c];
                if (escape == 0) {
                    b[at++] = (byte) c;
                } else if (escape == 'u') {
                    at = escape(b, at, c);
                } else {
                    b[at++] = '\\';
                    b[at++] = escape;
                }
            } else if (c < 0x800) {
                b[at++] = (byte) (0xC0 | c >> 6);
                b[at++] = (byte) (0x80 | c & 0x3F);
            } else if (!Character.isSurrogate(c)) {
                b[at++] = (byte) (0xE0 | c >> 12);
                b[at++] = (byte) (0x80 | c >> 6 & 0x3F);
                b[at++] = (byte) (0x80 | c & 0x3F);
            } else {
                // Jackson (2.18 on, COMBINE_UNICODE_SURROGATES_IN_UTF8 off by default) escapes every surrogate,
                // whether one half of a pair or alone
                at = escape(b, at, c);
            }
        }
        b[at++] = '"';
        size = at;
    }

    private static int escape(byte[] b, int at, char c) {
        b[at++] = '\\';
        b[at++] = 'u';
        b[at++] = HEX[c >> 12];
        b[at++] = HEX[c >> 8 & 0xF];
        b[at++] = HEX[c >> 4 & 0xF];
        b[at++] = HEX[c & 0xF];
        return at;
    }

    /** ASCII text written as it stands: a number's text, as Jackson's {@code writeNumber(String)} writes it. */
    void ascii(String text) {
        int n = text.length();
        room(n);
        for (int i = 0; i < n; i++) {
            bytes[size++] = (byte) text.charAt(i);
        }
    }

    byte[] toByteArray() {
        return Arrays.copyOf(bytes, size);
    }

    private void room(int more) {
        if (size + more > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
        }
    }
}
