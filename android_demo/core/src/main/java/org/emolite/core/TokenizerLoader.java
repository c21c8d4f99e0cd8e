package org.emolite.core;

import java.io.IOException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.json.JSONArray;
import org.json.JSONObject;

/**
 * Builds the tokenizer from a bundle: settings from the manifest, vocabulary from vocab.txt, special tokens from
 * tokenizer.json, the emoji table from {@code preprocessing.emoji_names} (when there is one); and refuses a tokenizer.json (the file the Python SDK runs) that asks for anything this port
 * does not do, because its ids would silently differ from the SDK's.
 */
public final class TokenizerLoader {
    private TokenizerLoader() {}

    public static WordPieceTokenizer load(Manifest manifest, BundleSource source) throws IOException {
        JSONObject tok = manifest.tokenizer();
        String vocabFile = tok.optString("vocab", "vocab.txt");
        String tokenizerFile = tok.optString("file", "tokenizer.json");
        manifest.file(vocabFile);
        manifest.file(tokenizerFile);
        Map<String, Integer> vocab = readVocab(Streams.readUtf8(source, vocabFile));
        JSONObject hf = Json.parse(Streams.readUtf8(source, tokenizerFile), tokenizerFile);
        return build(tok, vocab, hf, EmojiNames.read(manifest, source));
    }

    static WordPieceTokenizer build(JSONObject tok, Map<String, Integer> vocab, JSONObject hf) {
        return build(tok, vocab, hf, null);
    }

    static WordPieceTokenizer build(JSONObject tok, Map<String, Integer> vocab, JSONObject hf, EmojiNames emoji) {
        if (!"wordpiece".equals(tok.optString("type", "wordpiece"))) {
            throw unsupported("manifest tokenizer.type '" + tok.optString("type") + "'");
        }
        boolean lowercase = Json.bool(tok, "lowercase");
        BertNormalizer normalizer = new BertNormalizer(Json.bool(tok, "clean_text"), Json.bool(tok, "handle_chinese_chars"),
                Json.bool(tok, "strip_accents"), lowercase);
        checkNormalizer(Json.obj(hf, "normalizer"), tok);
        if (!"BertPreTokenizer".equals(Json.str(Json.obj(hf, "pre_tokenizer"), "type"))) {
            throw unsupported("pre_tokenizer " + Json.str(Json.obj(hf, "pre_tokenizer"), "type"));
        }
        String prefix = Json.str(tok, "continuing_subword_prefix");
        int maxChars = Json.integer(tok, "max_input_chars_per_word");
        checkModel(Json.obj(hf, "model"), tok, vocab);
        int unk = Json.integer(tok, "unk_id");
        int cls = Json.integer(tok, "cls_id");
        int sep = Json.integer(tok, "sep_id");
        checkIds(tok, vocab);
        checkPostProcessor(Json.obj(hf, "post_processor"), cls, sep);
        return new WordPieceTokenizer(vocab, specialTokens(hf.optJSONArray("added_tokens")), normalizer, prefix, maxChars,
                Json.integer(tok, "max_seq_length"), unk, cls, sep, emoji);
    }

    /** vocab.txt: one token per line, line number = id. */
    static Map<String, Integer> readVocab(String text) {
        Map<String, Integer> vocab = new HashMap<String, Integer>(40000);
        String[] lines = text.split("\n", -1);
        int n = lines.length;
        if (n > 0 && lines[n - 1].isEmpty()) {
            n--; // the final newline
        }
        for (int i = 0; i < n; i++) {
            String line = lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i];
            if (vocab.put(line, i) != null) {
                throw new EmoliteException.BundleException("vocab.txt lists '" + line + "' twice; re-export the bundle");
            }
        }
        return vocab;
    }

    private static void checkNormalizer(JSONObject norm, JSONObject tok) {
        if (!"BertNormalizer".equals(norm.optString("type"))) {
            throw unsupported("normalizer " + norm.optString("type"));
        }
        boolean lowercase = Json.bool(norm, "lowercase");
        // tokenizers: strip_accents null means "same as lowercase"
        boolean stripAccents = norm.isNull("strip_accents") ? lowercase : Json.bool(norm, "strip_accents");
        boolean same = lowercase == Json.bool(tok, "lowercase") && stripAccents == Json.bool(tok, "strip_accents")
                && Json.bool(norm, "clean_text") == Json.bool(tok, "clean_text")
                && Json.bool(norm, "handle_chinese_chars") == Json.bool(tok, "handle_chinese_chars");
        if (!same) {
            throw new EmoliteException.BundleException("manifest tokenizer settings disagree with tokenizer.json's normalizer "
                    + norm + "; re-export the bundle");
        }
    }

    private static void checkModel(JSONObject model, JSONObject tok, Map<String, Integer> vocab) {
        if (!"WordPiece".equals(model.optString("type"))) {
            throw unsupported("model " + model.optString("type"));
        }
        boolean same = Json.str(model, "unk_token").equals(Json.str(tok, "unk_token"))
                && Json.str(model, "continuing_subword_prefix").equals(Json.str(tok, "continuing_subword_prefix"))
                && Json.integer(model, "max_input_chars_per_word") == Json.integer(tok, "max_input_chars_per_word");
        JSONObject hfVocab = Json.obj(model, "vocab");
        same &= hfVocab.length() == vocab.size();
        for (Map.Entry<String, Integer> entry : vocab.entrySet()) {
            same &= hfVocab.optInt(entry.getKey(), -1) == entry.getValue();
        }
        if (!same) {
            throw new EmoliteException.BundleException("vocab.txt or the manifest's WordPiece settings disagree with "
                    + "tokenizer.json's model; re-export the bundle");
        }
    }

    private static void checkIds(JSONObject tok, Map<String, Integer> vocab) {
        String[] names = {"unk", "cls", "sep", "pad"};
        for (String name : names) {
            Integer id = vocab.get(Json.str(tok, name + "_token"));
            if (id == null || id != Json.integer(tok, name + "_id")) {
                throw new EmoliteException.BundleException("manifest " + name + "_id does not match vocab.txt; re-export the bundle");
            }
        }
    }

    private static void checkPostProcessor(JSONObject post, int cls, int sep) {
        String type = post.optString("type");
        boolean ok;
        if ("TemplateProcessing".equals(type)) {
            JSONArray single = Json.arr(post, "single");
            ok = single.length() == 3 && specialId(post, Json.obj(single, 0)) == cls
                    && Json.obj(single, 1).has("Sequence") && specialId(post, Json.obj(single, 2)) == sep;
        } else if ("BertProcessing".equals(type)) {
            ok = Json.integer(Json.arr(post, "cls"), 1) == cls && Json.integer(Json.arr(post, "sep"), 1) == sep;
        } else {
            ok = false;
        }
        if (!ok) {
            throw unsupported("post_processor " + post + " (expected [CLS] text [SEP])");
        }
    }

    private static int specialId(JSONObject post, JSONObject piece) {
        JSONObject special = piece.optJSONObject("SpecialToken");
        if (special == null) {
            return -1;
        }
        JSONObject entry = Json.obj(post, "special_tokens").optJSONObject(Json.str(special, "id"));
        JSONArray ids = entry == null ? null : entry.optJSONArray("ids");
        return ids == null || ids.length() != 1 ? -1 : Json.integer(ids, 0);
    }

    /** Added tokens are matched in the raw text; only the plain kind (no strip, not normalised) is supported. */
    private static Map<String, Integer> specialTokens(JSONArray added) {
        Map<String, Integer> out = new LinkedHashMap<String, Integer>();
        for (int i = 0; added != null && i < added.length(); i++) {
            JSONObject token = Json.obj(added, i);
            String[] flags = {"single_word", "lstrip", "rstrip", "normalized"};
            for (String flag : flags) {
                if (token.optBoolean(flag, false)) {
                    throw unsupported("added token " + token + " with " + flag);
                }
            }
            out.put(Json.str(token, "content"), Json.integer(token, "id"));
        }
        return out;
    }

    private static EmoliteException.BundleException unsupported(String what) {
        return new EmoliteException.BundleException("tokenizer.json uses " + what + ", which this app's tokenizer does not "
                + "implement (its ids would differ from the Python SDK's); update the app");
    }
}
