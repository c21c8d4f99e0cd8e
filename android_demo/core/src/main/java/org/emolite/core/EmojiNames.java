package org.emolite.core;

import java.io.IOException;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import org.json.JSONObject;

/**
 * The bundle's emoji table (manifest {@code preprocessing.emoji_names}, docs/bundle-format.md "Emoji names"; the
 * SDK's {@code emolite.emoji.EmojiNames}): before tokenisation every emoji or emoji sequence (skin tones, ZWJ
 * families, flags, keycaps) is replaced by its CLDR short name, because the WordPiece vocabulary has no emoji and
 * would make 😡, 😭 and 👍 the same [UNK].
 *
 * <p>The rule: scanning from the start, at each position the longest key that starts there is replaced by
 * {@code " " + name + " "} and the scan resumes after it; every other character is kept; an all-ASCII text is
 * returned as it is. Python counts in code points, Java in UTF-16 units: the scan here never starts inside a
 * surrogate pair nor ends between its halves, so it tries exactly the substrings Python tries, in the same
 * (longest-first) order, and looks each up as a whole string.
 */
public final class EmojiNames {
    public static final String FORMAT = "emolite-emoji-names";

    private final Map<String, String> names;
    /** First UTF-16 unit of every key: a text position whose unit is not here starts no key. */
    private final BitSet firsts = new BitSet(1 << 16);
    /** Sorted distinct first units and, at the same index, the longest key (UTF-16 units) starting with each. */
    private final char[] firstUnits;
    private final int[] longestFrom;

    private EmojiNames(Map<String, String> names) {
        this.names = names;
        Map<Character, Integer> longest = new HashMap<Character, Integer>();
        for (String key : names.keySet()) {
            Integer known = longest.get(key.charAt(0));
            if (known == null || key.length() > known) {
                longest.put(key.charAt(0), key.length());
            }
            firsts.set(key.charAt(0));
        }
        firstUnits = new char[longest.size()];
        int i = 0;
        for (Character c : longest.keySet()) {
            firstUnits[i++] = c;
        }
        Arrays.sort(firstUnits);
        longestFrom = new int[firstUnits.length];
        for (i = 0; i < firstUnits.length; i++) {
            longestFrom[i] = longest.get(firstUnits[i]);
        }
    }

    /**
     * The table the manifest names in {@code preprocessing.emoji_names}, or null when the bundle has none (the text
     * then goes to the tokenizer unchanged). The file must be listed in {@code files}, so the integrity check
     * covers it. A {@code preprocessing} field asking for a step this reader does not know is refused: the bundle
     * schema allows none, and skipping it would silently give ids that differ from the SDK's.
     */
    public static EmojiNames read(Manifest manifest, BundleSource source) throws IOException {
        String file = manifest.emojiNamesFile();
        if (file == null) {
            return null;
        }
        manifest.file(file);
        return parse(Streams.readUtf8(source, file), file);
    }

    /**
     * Parses and checks a table as the SDK does: {@code "format": "emolite-emoji-names"}, {@code names} an object
     * whose keys are non-empty and not all-ASCII and whose values are strings that are not blank.
     */
    public static EmojiNames parse(String text, String where) {
        JSONObject data = Json.parse(text, where);
        Object names = data.opt("names");
        if (!FORMAT.equals(data.opt("format")) || !(names instanceof JSONObject)) {
            throw notATable(where, "it has no \"format\": \"" + FORMAT + "\" and \"names\" object");
        }
        JSONObject object = (JSONObject) names;
        Map<String, String> out = new HashMap<String, String>(object.length() * 2);
        for (String key : Json.keys(object)) {
            Object name = object.opt(key);
            if (key.isEmpty() || isAscii(key)) {
                throw notATable(where, "key " + JSONObject.quote(key) + " is " + (key.isEmpty() ? "empty" : "plain ASCII"));
            }
            if (!(name instanceof String) || TextInput.isBlank((String) name)) {
                throw notATable(where, "the name of " + JSONObject.quote(key) + " is not a non-blank string");
            }
            out.put(key, (String) name);
        }
        return new EmojiNames(Collections.unmodifiableMap(out));
    }

    private static EmoliteException.BundleException notATable(String where, String why) {
        return new EmoliteException.BundleException(where + " is not an emoji table of format " + FORMAT + " (" + why
                + "); re-export the bundle");
    }

    /** Every key and its name (unmodifiable). */
    public Map<String, String> names() {
        return names;
    }

    public int size() {
        return names.size();
    }

    /** The text with every emoji (longest sequence first) replaced by a space, its name and a space. */
    public String apply(String text) {
        if (names.isEmpty() || isAscii(text)) { // the common case costs one scan
            return text;
        }
        StringBuilder out = null;
        int done = 0; // text before this index is already in out (or, while out is null, unchanged)
        int n = text.length();
        for (int start = 0; start < n; start++) {
            char c = text.charAt(start);
            if (!firsts.get(c) || start > 0 && Character.isLowSurrogate(c) && Character.isHighSurrogate(text.charAt(start - 1))) {
                continue; // starts no key, or is the second half of a pair
            }
            int longest = longestFrom[Arrays.binarySearch(firstUnits, c)];
            for (int end = Math.min(n, start + longest); end > start; end--) {
                if (end < n && Character.isLowSurrogate(text.charAt(end)) && Character.isHighSurrogate(text.charAt(end - 1))) {
                    continue; // would split a surrogate pair: not a whole code point sequence
                }
                String name = names.get(text.substring(start, end));
                if (name != null) {
                    if (out == null) {
                        out = new StringBuilder(n + 32);
                    }
                    out.append(text, done, start).append(' ').append(name).append(' ');
                    done = end;
                    start = end - 1; // the loop's start++ resumes the scan after the key
                    break;
                }
            }
        }
        return out == null ? text : out.append(text, done, n).toString();
    }

    static boolean isAscii(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) >= 0x80) {
                return false;
            }
        }
        return true;
    }
}
