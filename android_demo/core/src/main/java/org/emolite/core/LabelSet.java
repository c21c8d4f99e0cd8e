package org.emolite.core;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Collections;
import java.util.List;
import org.json.JSONArray;
import org.json.JSONObject;

/** A label set: names, decision rule, per-label thresholds and the L2-normalised label embeddings (n x D). */
public final class LabelSet {
    public final String name; // "" for a custom set
    public final List<String> labels;
    public final boolean multiLabel;
    public final float[] thresholds;
    public final float[][] embeddings;

    public LabelSet(String name, List<String> labels, boolean multiLabel, float[] thresholds, float[][] embeddings) {
        if (thresholds.length != labels.size() || embeddings.length != labels.size()) {
            throw new EmoliteException.BundleException("label set '" + name + "': " + labels.size() + " labels, "
                    + thresholds.length + " thresholds, " + embeddings.length + " embeddings");
        }
        this.name = name;
        this.labels = Collections.unmodifiableList(labels);
        this.multiLabel = multiLabel;
        this.thresholds = thresholds;
        this.embeddings = embeddings;
    }

    /** Reads labels/&lt;set&gt;.f32 (little-endian float32, row-major) and the set's manifest entry. */
    public static LabelSet read(Manifest manifest, String name, BundleSource source) throws IOException {
        JSONObject meta = manifest.labelSet(name);
        List<String> labels = Json.strings(Json.arr(meta, "labels"));
        String file = Json.str(meta, "file");
        manifest.file(file);
        int dim = manifest.dim();
        byte[] raw = Streams.readAll(source.open(file));
        if (raw.length != labels.size() * dim * 4) {
            throw new EmoliteException.BundleException("label set '" + name + "': " + raw.length / 4 + " floats in " + file
                    + ", expected " + labels.size() + " x " + dim);
        }
        return new LabelSet(name, labels, Json.bool(meta, "multi_label"), thresholds(meta, labels.size()), rows(raw, labels.size(), dim));
    }

    private static float[] thresholds(JSONObject meta, int n) {
        JSONArray given = meta.optJSONArray("thresholds");
        if (given == null) {
            float[] out = new float[n];
            java.util.Arrays.fill(out, 0.5f);
            return out;
        }
        return Json.floats(given);
    }

    /** n rows of dim little-endian float32 values. */
    public static float[][] rows(byte[] raw, int n, int dim) {
        FloatBuffer floats = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        float[][] out = new float[n][dim];
        for (float[] row : out) {
            floats.get(row);
        }
        return out;
    }
}
