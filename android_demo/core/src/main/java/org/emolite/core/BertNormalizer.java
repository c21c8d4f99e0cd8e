package org.emolite.core;

import java.text.Normalizer;

/**
 * BERT text normalisation, step for step as the Hugging Face {@code tokenizers} BertNormalizer that the Python
 * SDK runs: clean text, space out CJK ideographs, strip accents (NFD, drop non-spacing marks), lower-case.
 *
 * <p>The order (accents before lower-casing) and the character classes follow the Rust implementation, not
 * the prose of the original BERT code, because the ids must equal the Python SDK's. Where the JDK's Unicode
 * tables disagree with the ones compiled into {@code tokenizers}, {@link UnicodeTables} says what the
 * reference does.
 */
public final class BertNormalizer {
    private final boolean cleanText;
    private final boolean handleChineseChars;
    private final boolean stripAccents;
    private final boolean lowercase;

    public BertNormalizer(boolean cleanText, boolean handleChineseChars, boolean stripAccents, boolean lowercase) {
        this.cleanText = cleanText;
        this.handleChineseChars = handleChineseChars;
        this.stripAccents = stripAccents;
        this.lowercase = lowercase;
    }

    /** The normalised text; may be empty (e.g. a text of control characters only). */
    public String normalize(String text) {
        String s = text;
        if (cleanText) {
            s = clean(s);
        }
        if (handleChineseChars) {
            s = spaceOutCjk(s);
        }
        if (stripAccents) {
            s = stripAccents(s);
        }
        if (lowercase) {
            s = lowercase(s);
        }
        return s;
    }

    static String clean(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (cp == 0 || cp == 0xFFFD || UnicodeTables.isControl(cp)) {
                continue; // filtered before whitespace mapping: U+0085 and U+000B are dropped, not spaced
            }
            if (UnicodeTables.isWhitespace(cp)) {
                out.append(' ');
            } else {
                out.appendCodePoint(cp);
            }
        }
        return out.toString();
    }

    static String spaceOutCjk(String s) {
        StringBuilder out = new StringBuilder(s.length() + 8);
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (UnicodeTables.isChineseChar(cp)) {
                out.append(' ').appendCodePoint(cp).append(' ');
            } else {
                out.appendCodePoint(cp);
            }
        }
        return out.toString();
    }

    static String stripAccents(String s) {
        StringBuilder out = new StringBuilder(s.length());
        int start = 0;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            int next = i + Character.charCount(cp);
            if (UnicodeTables.isKeptComposed(cp)) {
                appendStripped(s.substring(start, i), out);
                out.appendCodePoint(cp);
                start = next;
            }
            i = next;
        }
        appendStripped(s.substring(start), out);
        return out.toString();
    }

    private static void appendStripped(String s, StringBuilder out) {
        String nfd = Normalizer.normalize(s, Normalizer.Form.NFD);
        for (int i = 0; i < nfd.length(); ) {
            int cp = nfd.codePointAt(i);
            i += Character.charCount(cp);
            if (!UnicodeTables.isNonSpacingMark(cp)) {
                out.appendCodePoint(cp);
            }
        }
    }

    /** Per code point full lower-case mapping (Rust's char::to_lowercase): no final-sigma context rule. */
    static String lowercase(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            out.append(UnicodeTables.lowercase(cp));
            i += Character.charCount(cp);
        }
        return out.toString();
    }
}
