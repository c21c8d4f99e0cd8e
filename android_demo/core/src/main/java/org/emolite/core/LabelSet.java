package org.emolite.core;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Collections;
import java.util.List;
import org.json.JSONArray;
import org.json.JSONObject;

/**
 * A label set: names, decision rule, per-label thresholds, the L2-normalised label embeddings (n x D) and, when the
 * bundle fitted one for it, the set's own calibration (a logit scale and one logit bias per label; null: the
 * bundle's {@code scoring.logit_scale} / {@code scoring.logit_bias}, as for custom label words).
 */
public final class LabelSet {
    public final String name; // "" for a custom set
    public final List<String> labels;
    public final boolean multiLabel;
    public final float[] thresholds;
    public final float[][] embeddings;
    /** The set's own {@code logit_scale}, or null for the bundle's. */
    public final Double logitScale;
    /** The set's own {@code logit_bias}, one per label (float32, as the SDK reads it), or null for the bundle's. */
    public final float[] logitBias;

    public LabelSet(String name, List<String> labels, boolean multiLabel, float[] thresholds, float[][] embeddings) {
        this(name, labels, multiLabel, thresholds, embeddings, null, null);
    }

    public LabelSet(String name, List<String> labels, boolean multiLabel, float[] thresholds, float[][] embeddings,
            Double logitScale, float[] logitBias) {
        if (thresholds.length != labels.size() || embeddings.length != labels.size()) {
            throw new EmoliteException.BundleException("label set '" + name + "': " + labels.size() + " labels, "
                    + thresholds.length + " thresholds, " + embeddings.length + " embeddings");
        }
        if (logitBias != null && logitBias.length != labels.size()) {
            throw new EmoliteException.BundleException("label set '" + name + "': " + logitBias.length + " logit_bias values for "
                    + labels.size() + " labels; re-export the bundle");
        }
        if (logitScale != null && !(logitScale > 0 && !logitScale.isInfinite())) {
            throw new EmoliteException.BundleException("label set '" + name + "': logit_scale " + logitScale
                    + " is not a positive number; re-export the bundle");
        }
        this.name = name;
        this.labels = Collections.unmodifiableList(labels);
        this.multiLabel = multiLabel;
        this.thresholds = thresholds;
        this.embeddings = embeddings;
        this.logitScale = logitScale;
        this.logitBias = logitBias;
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
        return new LabelSet(name, labels, Json.bool(meta, "multi_label"), thresholds(meta, labels.size()), rows(raw, labels.size(), dim),
                logitScale(meta, name), logitBias(meta, name));
    }

    /** The set's own logit_scale (absent or null: the bundle's). */
    private static Double logitScale(JSONObject meta, String name) {
        if (!meta.has("logit_scale") || meta.isNull("logit_scale")) {
            return null;
        }
        if (!(meta.opt("logit_scale") instanceof Number)) {
            throw new EmoliteException.BundleException("label set '" + name + "': logit_scale is not a number; re-export the bundle");
        }
        return Json.num(meta, "logit_scale");
    }

    /** The set's own logit_bias, one number per label (absent or null: the bundle's scalar). */
    private static float[] logitBias(JSONObject meta, String name) {
        if (!meta.has("logit_bias") || meta.isNull("logit_bias")) {
            return null;
        }
        JSONArray bias = meta.optJSONArray("logit_bias");
        if (bias == null) {
            throw new EmoliteException.BundleException("label set '" + name + "': logit_bias is not a list of numbers, one per label; "
                    + "re-export the bundle");
        }
        for (int i = 0; i < bias.length(); i++) {
            if (!(bias.opt(i) instanceof Number)) {
                throw new EmoliteException.BundleException("label set '" + name + "': logit_bias[" + i + "] is not a number; "
                        + "re-export the bundle");
            }
        }
        return Json.floats(bias);
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
