package org.emolite.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The bundle's text pipeline with the Python SDK's results (its TextEncoder): an over-long text cut first, then the
 * emoji table (when the bundle has one, {@link EmojiNames}), then BERT tokenisation: special tokens written in the
 * text, normaliser, whitespace and punctuation split, greedy longest-match WordPiece, [CLS]/[SEP], truncation
 * (docs/bundle-format.md). Build it with {@link TokenizerLoader}, which checks the bundle's tokenizer.json asks for
 * nothing else.
 */
public final class WordPieceTokenizer {
    private final Map<String, Integer> vocab;
    private final List<String> specialTokens;
    private final List<Integer> specialIds;
    private final BertNormalizer normalizer;
    private final String prefix;
    private final int maxCharsPerWord;
    private final int maxLength;
    private final int unkId;
    private final int clsId;
    private final int sepId;
    private final EmojiNames emoji; // null: the bundle has no emoji table
    private final int maxInputChars;

    WordPieceTokenizer(Map<String, Integer> vocab, Map<String, Integer> specialTokens, BertNormalizer normalizer,
            String prefix, int maxCharsPerWord, int maxLength, int unkId, int clsId, int sepId, EmojiNames emoji) {
        this.vocab = vocab;
        this.specialTokens = new ArrayList<String>(specialTokens.keySet());
        this.specialIds = new ArrayList<Integer>(specialTokens.values());
        this.normalizer = normalizer;
        this.prefix = prefix;
        this.maxCharsPerWord = maxCharsPerWord;
        this.maxLength = maxLength;
        this.unkId = unkId;
        this.clsId = clsId;
        this.sepId = sepId;
        this.emoji = emoji;
        // The SDK's TextEncoder cuts longer texts (in code points) before anything else and flags them truncated:
        // every piece holds at least one character and a longer word is one [UNK], so a prefix this long gives
        // more pieces than the model keeps (unless it is mostly whitespace: the cut still decides, as in the SDK).
        this.maxInputChars = 2 * maxLength * (maxCharsPerWord + 1);
    }

    public int maxLength() {
        return maxLength;
    }

    /** The bundle's emoji table, or null when it has none. */
    public EmojiNames emojiNames() {
        return emoji;
    }

    /** Texts longer than this many code points are cut to it before anything else (and flagged truncated). */
    public int maxInputChars() {
        return maxInputChars;
    }

    /**
     * What the tokenizer proper sees, in the SDK's order: the text cut to {@link #maxInputChars()} code points, then
     * every emoji replaced by its name (when the bundle has the table).
     */
    public String preprocess(String text) {
        String cut = cut(text);
        return emoji == null ? cut : emoji.apply(cut);
    }

    private String cut(String text) {
        if (text.length() <= maxInputChars || text.codePointCount(0, text.length()) <= maxInputChars) {
            return text;
        }
        return text.substring(0, text.offsetByCodePoints(0, maxInputChars));
    }

    /** [CLS] pieces [SEP], the pieces cut to maxLength - 2; truncated when pieces were dropped or the text was cut. */
    public Encoding encode(String text) {
        String cut = cut(text);
        boolean wasCut = cut.length() < text.length();
        List<Integer> pieces = new ArrayList<Integer>();
        String clean = replaceLoneSurrogates(emoji == null ? cut : emoji.apply(cut));
        int start = 0;
        while (start <= clean.length()) {
            int[] match = nextSpecial(clean, start);  // {position, index} or null
            int end = match == null ? clean.length() : match[0];
            for (String word : preTokenize(normalizer.normalize(clean.substring(start, end)))) {
                wordPiece(word, pieces);
            }
            if (match == null) {
                break;
            }
            pieces.add(specialIds.get(match[1]));
            start = end + specialTokens.get(match[1]).length();
        }
        int keep = Math.min(pieces.size(), maxLength - 2);
        int[] ids = new int[keep + 2];
        ids[0] = clsId;
        for (int i = 0; i < keep; i++) {
            ids[i + 1] = pieces.get(i);
        }
        ids[keep + 1] = sepId;
        return new Encoding(ids, keep < pieces.size() || wasCut);
    }

    /** Leftmost, then longest, special token at or after {@code from}: they are matched on the raw text. */
    private int[] nextSpecial(String text, int from) {
        for (int pos = from; pos < text.length(); pos++) {
            int best = -1;
            for (int t = 0; t < specialTokens.size(); t++) {
                String token = specialTokens.get(t);
                if (text.startsWith(token, pos) && (best < 0 || token.length() > specialTokens.get(best).length())) {
                    best = t;
                }
            }
            if (best >= 0) {
                return new int[] {pos, best};
            }
        }
        return null;
    }

    /** Whitespace separates words; every punctuation character is a word of its own. */
    static List<String> preTokenize(String text) {
        if (text.isEmpty()) {
            return Collections.emptyList();
        }
        List<String> words = new ArrayList<String>();
        StringBuilder word = new StringBuilder();
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (UnicodeTables.isWhitespace(cp)) {
                flush(word, words);
            } else if (UnicodeTables.isPunctuation(cp)) {
                flush(word, words);
                words.add(new String(Character.toChars(cp)));
            } else {
                word.appendCodePoint(cp);
            }
        }
        flush(word, words);
        return words;
    }

    private static void flush(StringBuilder word, List<String> words) {
        if (word.length() > 0) {
            words.add(word.toString());
            word.setLength(0);
        }
    }

    /** Greedy longest match over code points; a word with an unmatched rest, or too long, is one [UNK]. */
    private void wordPiece(String word, List<Integer> out) {
        int n = word.codePointCount(0, word.length());
        if (n > maxCharsPerWord) {
            out.add(unkId);
            return;
        }
        List<Integer> ids = new ArrayList<Integer>();
        int start = 0; // char index
        while (start < word.length()) {
            int end = word.length();
            Integer id = null;
            while (start < end) {
                String piece = start > 0 ? prefix + word.substring(start, end) : word.substring(start, end);
                id = vocab.get(piece);
                if (id != null) {
                    break;
                }
                end = word.offsetByCodePoints(end, -1);
            }
            if (id == null) {
                out.add(unkId);
                return;
            }
            ids.add(id);
            start = end;
        }
        out.addAll(ids);
    }

    /** The SDK shows a lone surrogate as U+FFFD before tokenising; so does this. */
    static String replaceLoneSurrogates(String text) {
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean pair = Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1));
            if (pair) {
                if (out != null) {
                    out.append(c).append(text.charAt(i + 1));
                }
                i++;
            } else if (Character.isSurrogate(c)) {
                if (out == null) {
                    out = new StringBuilder(text.substring(0, i));
                }
                out.append('\uFFFD');
            } else if (out != null) {
                out.append(c);
            }
        }
        return out == null ? text : out.toString();
    }
}
