package org.emolite.core;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.json.JSONArray;
import org.json.JSONObject;

/** manifest.json of a bundle, format v1 (docs/bundle-format.md), checked for the fields this reader uses. */
public final class Manifest {
    public static final String FORMAT_NAME = "emolite-bundle";
    public static final int FORMAT_VERSION = 1;
    public static final String FILE = "manifest.json";

    private final JSONObject json;
    private final Map<String, FileEntry> files;

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

    private Manifest(JSONObject json) {
        this.json = json;
        this.files = readFiles(Json.obj(json, "files"));
    }

    /** Parses and structurally checks a manifest; refuses other formats and versions (contract step 1). */
    public static Manifest parse(String text, String where) {
        JSONObject json = Json.parse(text, where);
        if (!FORMAT_NAME.equals(json.optString("format"))) {
            throw new EmoliteException.BundleException(where + " is not an emolite bundle manifest (no \"format\": \"" + FORMAT_NAME + "\")");
        }
        Object version = json.opt("format_version");
        if (!(version instanceof Integer) || (Integer) version != FORMAT_VERSION) {
            throw new EmoliteException.UnsupportedVersionException("bundle " + where + " has format version " + version
                    + "; this app reads version " + FORMAT_VERSION + ". Update the app or re-export the bundle with this version");
        }
        String[] objects = {"encoder", "tokenizer", "formats", "label_sets", "files", "golden", "scoring"};
        for (String key : objects) {
            if (json.optJSONObject(key) == null) {
                throw new EmoliteException.BundleException(where + ": manifest field '" + key + "' is missing or not an object");
            }
        }
        return new Manifest(json);
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
