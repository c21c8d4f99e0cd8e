package org.emolite.core;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.json.JSONArray;
import org.json.JSONObject;

/**
 * manifest.json of a bundle, format v2 (docs/bundle-format.md), checked for the fields this reader uses.
 *
 * <p>Format v2 adds manifest.sha256 beside manifest.json: the lowercase hex sha256 of manifest.json's exact bytes
 * and a newline. {@link #read} checks it before the manifest is parsed, always (also when file verification is
 * off): the manifest's thresholds, scale, bias and label names change answers, so an edited or damaged manifest
 * is refused, not used.
 */
public final class Manifest {
    public static final String FORMAT_NAME = "emolite-bundle";
    public static final int FORMAT_VERSION = 2;
    public static final String FILE = "manifest.json";
    public static final String DIGEST_FILE = "manifest.sha256";
    /** Longer than any sha256 line with surrounding whitespace could reasonably be: refuse, do not read on. */
    private static final int MAX_DIGEST_BYTES = 1024;

    private final JSONObject json;
    private final Map<String, FileEntry> files;
    private final String sha256;

    /** A file the manifest lists, with the size and hash it must have. */
    public static final class FileEntry {
        public final String path;
        public final long bytes;
        public final String sha256;

        FileEntry(String path, long bytes, String sha256) {
            this.path = path;
            this.bytes = bytes;
            this.sha256 = sha256;
        }
    }

    private Manifest(JSONObject json, String sha256) {
        this.json = json;
        this.files = readFiles(Json.obj(json, "files"));
        this.sha256 = sha256;
    }

    /**
     * Contract step 1: reads manifest.json's bytes once, checks them against manifest.sha256, and only then parses
     * them and checks format and version. Throws BundleException when manifest.sha256 is missing, malformed or
     * differs; IOException when manifest.json itself cannot be read.
     */
    public static Manifest read(BundleSource source) throws IOException {
        String where = source.describe() + "/" + FILE;
        byte[] raw = Streams.readAll(source.open(FILE));
        String digest = checkDigest(raw, source);
        return parse(new String(raw, Streams.UTF8), where, digest);
    }

    /**
     * Refuses the manifest bytes unless manifest.sha256 holds their sha256 (64 hex characters, whitespace around);
     * returns that sha256 (lowercase hex).
     */
    static String checkDigest(byte[] manifestBytes, BundleSource source) {
        String where = source.describe() + "/" + DIGEST_FILE;
        byte[] stored;
        try {
            stored = Streams.readAtMost(source.open(DIGEST_FILE), MAX_DIGEST_BYTES + 1);
        } catch (FileNotFoundException e) {
            throw new EmoliteException.BundleException("bundle " + source.describe() + " has no " + DIGEST_FILE
                    + " (bundles of format version 1 have none; format 2 requires it); re-export the bundle", e);
        } catch (IOException e) {
            throw new EmoliteException.BundleException("cannot read " + where + " (" + e.getMessage()
                    + "); re-copy or re-export the bundle", e);
        }
        String digest = stored.length > MAX_DIGEST_BYTES ? "" : strip(new String(stored, Streams.UTF8));
        if (!isSha256Hex(digest)) {
            throw new EmoliteException.BundleException(where + " is not a sha256 (64 hex characters and a newline): "
                    + "the file is corrupt; re-copy or re-export the bundle");
        }
        String actual = sha256Hex(manifestBytes);
        if (!digest.equalsIgnoreCase(actual)) {
            throw new EmoliteException.BundleException(source.describe() + "/" + FILE + " fails its integrity check (its sha256"
                    + " differs from " + DIGEST_FILE + "): the manifest was edited or corrupted; re-copy or re-export the bundle");
        }
        return actual;
    }

    /** Drops surrounding whitespace exactly as Python's str.strip() does in ASCII (the SDK's reader). */
    static String strip(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && isSpace(s.charAt(start))) {
            start++;
        }
        while (end > start && isSpace(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(start, end);
    }

    private static boolean isSpace(char c) {
        return c == ' ' || c >= '\t' && c <= '\r' || c >= '\u001c' && c <= '\u001f';
    }

    static boolean isSha256Hex(String s) {
        if (s.length() != 64) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')) {
                return false;
            }
        }
        return true;
    }

    static String sha256Hex(byte[] bytes) {
        try {
            return BundleVerifier.hex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required on every Java platform", e);
        }
    }

    /** Parses and structurally checks manifest text that {@link #read} has checked; refuses other formats and versions. */
    private static Manifest parse(String text, String where, String sha256) {
        JSONObject json = Json.parse(text, where);
        if (!FORMAT_NAME.equals(json.optString("format"))) {
            throw new EmoliteException.BundleException(where + " is not an emolite bundle manifest (no \"format\": \"" + FORMAT_NAME + "\")");
        }
        Object version = json.opt("format_version");
        if (!(version instanceof Integer) || (Integer) version != FORMAT_VERSION) {
            String advice = version instanceof Integer && (Integer) version < FORMAT_VERSION
                    ? "re-export the bundle with the current emolite" : "update the app or re-export the bundle";
            throw new EmoliteException.UnsupportedVersionException("bundle " + where + " has format version " + version
                    + "; this app reads version " + FORMAT_VERSION + " only: " + advice);
        }
        String[] objects = {"encoder", "tokenizer", "formats", "label_sets", "files", "golden", "scoring"};
        for (String key : objects) {
            if (json.optJSONObject(key) == null) {
                throw new EmoliteException.BundleException(where + ": manifest field '" + key + "' is missing or not an object");
            }
        }
        return new Manifest(json, sha256);
    }

    private static Map<String, FileEntry> readFiles(JSONObject files) {
        Map<String, FileEntry> out = new LinkedHashMap<String, FileEntry>();
        for (String path : Json.keys(files)) {
            JSONObject meta = Json.obj(files, path);
            out.put(path, new FileEntry(path, Json.int64(meta, "bytes"), Json.str(meta, "sha256")));
        }
        return Collections.unmodifiableMap(out);
    }

    public JSONObject json() {
        return json;
    }

    /**
     * The verified sha256 of manifest.json's bytes (lowercase hex): it identifies the whole bundle, since the
     * manifest holds every other file's sha256. An app that must refuse any other bundle, even one whose digest
     * was rewritten with the manifest, can compare this with a value it pins.
     */
    public String sha256() {
        return sha256;
    }

    public String name() {
        return json.optString("name", "");
    }

    public int dim() {
        return Json.integer(Json.obj(json, "encoder"), "embedding_dim");
    }

    public JSONObject tokenizer() {
        return Json.obj(json, "tokenizer");
    }

    public int maxSeqLength() {
        return Json.integer(tokenizer(), "max_seq_length");
    }

    public Map<String, FileEntry> files() {
        return files;
    }

    /** The manifest entry of a file the reader is about to use; unlisted files are refused. */
    public FileEntry file(String relpath) {
        FileEntry entry = files.get(relpath);
        if (entry == null) {
            throw new EmoliteException.BundleException("'" + relpath + "' is used but not listed in manifest 'files'");
        }
        BundleVerifier.checkPath(relpath);
        return entry;
    }

    /**
     * {@code preprocessing.emoji_names}: the emoji table's path, or null when the manifest has no
     * {@code preprocessing} (older bundles: the text is tokenised as it is). Any other preprocessing step is refused.
     */
    public String emojiNamesFile() {
        if (!json.has("preprocessing") || json.isNull("preprocessing")) {
            return null;
        }
        JSONObject pre = json.optJSONObject("preprocessing");
        if (pre == null) {
            throw new EmoliteException.BundleException("manifest field 'preprocessing' is not an object; re-export the bundle");
        }
        for (String key : Json.keys(pre)) {
            if (!"emoji_names".equals(key)) {
                throw new EmoliteException.BundleException("manifest preprocessing step '" + key + "' is not one this app "
                        + "implements (its token ids would differ from the Python SDK's); update the app");
            }
        }
        String file = pre.isNull("emoji_names") ? "" : Json.str(pre, "emoji_names");
        return file.isEmpty() ? null : file; // as the SDK: an empty entry means no table
    }

    public double logitScale() {
        return Json.num(Json.obj(json, "scoring"), "logit_scale");
    }

    public double logitBias() {
        return Json.obj(json, "scoring").optDouble("logit_bias", 0.0);
    }

    public double defaultThreshold() {
        return Json.obj(json, "scoring").optDouble("default_threshold", 0.5);
    }

    public List<String> labelTemplates() {
        JSONArray templates = json.optJSONArray("label_templates");
        return templates == null ? Collections.singletonList("{label}") : Json.strings(templates);
    }

    public String defaultLabelSet() {
        return Json.str(json, "default_label_set");
    }

    public List<String> labelSetNames() {
        return Json.keys(Json.obj(json, "label_sets"));
    }

    public JSONObject labelSet(String name) {
        JSONObject sets = Json.obj(json, "label_sets");
        if (!sets.has(name)) {
            throw new EmoliteException.InvalidInputException("unknown label set '" + name + "'; this bundle has: "
                    + join(labelSetNames()) + " (or give a list of label words)");
        }
        return Json.obj(sets, name);
    }

    /** The ONNX model's entry in formats: file, inputs, output. */
    public JSONObject onnx() {
        JSONObject onnx = Json.obj(json, "formats").optJSONObject("onnx");
        if (onnx == null) {
            throw new EmoliteException.BundleException("bundle has no ONNX model (formats.onnx); this app runs ONNX Runtime");
        }
        return onnx;
    }

    public List<String> goldenTexts() {
        return Json.strings(Json.arr(Json.obj(json, "golden"), "texts"));
    }

    public double goldenMinCosine() {
        return Json.obj(json, "golden").optDouble("min_cosine", 0.99);
    }

    /** Golden embeddings for a runtime format ("onnx"), or null when the bundle has none. */
    public float[][] goldenEmbeddings(String format) {
        JSONObject all = Json.obj(json, "golden").optJSONObject("embeddings");
        JSONArray rows = all == null ? null : all.optJSONArray(format);
        if (rows == null) {
            return null;
        }
        float[][] out = new float[rows.length()][];
        for (int i = 0; i < rows.length(); i++) {
            out[i] = Json.floats(Json.arr(rows, i));
        }
        return out;
    }

    static String join(List<String> items) {
        StringBuilder out = new StringBuilder();
        for (String item : items) {
            out.append(out.length() == 0 ? "" : ", ").append(item);
        }
        return out.toString();
    }
}
