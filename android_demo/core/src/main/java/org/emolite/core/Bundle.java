package org.emolite.core;

import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A verified bundle: manifest, tokenizer and label sets (read on first use), from any {@link BundleSource}. */
public final class Bundle {
    public final Manifest manifest;
    public final BundleSource source;
    public final WordPieceTokenizer tokenizer;
    private final Map<String, LabelSet> labelSets = new HashMap<String, LabelSet>();

    private Bundle(Manifest manifest, BundleSource source, WordPieceTokenizer tokenizer) {
        this.manifest = manifest;
        this.source = source;
        this.tokenizer = tokenizer;
    }

    /**
     * Contract steps 1 and 2: manifest.json against manifest.sha256 (always), format and version, then every listed
     * file's size and sha256 (when verify is true).
     */
    public static Bundle open(BundleSource source, boolean verify) throws IOException {
        Manifest manifest = Manifest.read(source);
        if (verify) {
            BundleVerifier.verifyFiles(manifest, source);
        }
        return new Bundle(manifest, source, TokenizerLoader.load(manifest, source));
    }

    public List<String> labelSetNames() {
        return manifest.labelSetNames();
    }

    public synchronized LabelSet labelSet(String name) throws IOException {
        LabelSet set = labelSets.get(name);
        if (set == null) {
            set = LabelSet.read(manifest, name, source);
            labelSets.put(name, set);
        }
        return set;
    }

    /** The model file's bytes (ONNX Runtime takes them directly). */
    public byte[] modelBytes() throws IOException {
        String file = Json.str(manifest.onnx(), "file");
        manifest.file(file);
        return Streams.readAll(source.open(file));
    }

    /** The model's sha256 from the manifest: a key for anything derived from this model. */
    public String modelKey() {
        return manifest.file(Json.str(manifest.onnx(), "file")).sha256;
    }
}
