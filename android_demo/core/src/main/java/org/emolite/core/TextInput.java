package org.emolite.core;

/** The SDK's input rules (sdk/text.py as_text_list): text that is empty or whitespace only is refused. */
public final class TextInput {
    private TextInput() {}

    /** Python's str.isspace(): bidi class WS, B or S, or category Zs (White_Space plus U+001C..U+001F). */
    static boolean isPythonSpace(int cp) {
        return UnicodeTables.isWhitespace(cp) || (cp >= 0x1C && cp <= 0x1F);
    }

    /** Python's str.strip() with no arguments. */
    public static String strip(String text) {
        int start = 0;
        int end = text.length();
        while (start < end && isPythonSpace(text.codePointAt(start))) {
            start += Character.charCount(text.codePointAt(start));
        }
        while (end > start && isPythonSpace(text.codePointBefore(end))) {
            end -= Character.charCount(text.codePointBefore(end));
        }
        return text.substring(start, end);
    }

    public static boolean isBlank(String text) {
        return strip(text).isEmpty();
    }

    /** Returns the text unchanged, or throws the SDK's message for blank input. */
    public static String require(String text, String what) {
        if (text == null) {
            throw new EmoliteException.InvalidInputException(what + " is null; give some text");
        }
        if (isBlank(text)) {
            throw new EmoliteException.InvalidInputException(what + " is empty or whitespace only; there is nothing to classify");
        }
        return text;
    }
}
