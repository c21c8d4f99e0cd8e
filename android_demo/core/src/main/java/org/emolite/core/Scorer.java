package org.emolite.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The bundle's scoring rule (docs/bundle-format.md, sdk/scoring.py): cos = E . e; multi-label
 * p_i = sigmoid(s * cos_i + b_i), predicted = the best label and every other at or over its threshold; single-label
 * p = softmax(s * cos + b), predicted = argmax. s and b_i are the label set's own logit_scale / logit_bias[i] when
 * it has them, else the bundle's scoring.logit_scale / scoring.logit_bias (a scalar, which cancels in the softmax).
 * Sums run in double; results are float32 like the SDK's.
 */
public final class Scorer {
    private final double scale;
    private final double bias;

    public Scorer(double logitScale, double logitBias) {
        this.scale = logitScale;
        this.bias = logitBias;
    }

    public static Scorer of(Manifest manifest) {
        return new Scorer(manifest.logitScale(), manifest.logitBias());
    }

    /** Probabilities in the label set's row order. */
    public float[] probabilities(float[] embedding, LabelSet set, boolean multiLabel) {
        int n = set.labels.size();
        double s = set.logitScale != null ? set.logitScale : scale;
        double[] logits = new double[n];
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            logits[i] = s * dot(set.embeddings[i], embedding) + (set.logitBias != null ? set.logitBias[i] : bias);
            max = Math.max(max, logits[i]);
        }
        float[] out = new float[n];
        if (multiLabel) {
            for (int i = 0; i < n; i++) {
                out[i] = (float) (1.0 / (1.0 + Math.exp(-logits[i])));
            }
            return out;
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            logits[i] = Math.exp(logits[i] - max);
            sum += logits[i];
        }
        for (int i = 0; i < n; i++) {
            out[i] = (float) (logits[i] / sum);
        }
        return out;
    }

    /** Sorted labels and scores (ties keep row order, as numpy's stable argsort) and the predicted labels. */
    public Prediction decide(float[] probs, LabelSet set, boolean multiLabel, boolean truncated) {
        int[] order = argsortDescending(probs);
        List<String> predicted = new ArrayList<String>();
        predicted.add(set.labels.get(order[0]));
        if (multiLabel) {
            for (int k = 1; k < order.length; k++) {
                if (probs[order[k]] >= set.thresholds[order[k]]) {
                    predicted.add(set.labels.get(order[k]));
                }
            }
        }
        List<String> labels = new ArrayList<String>(order.length);
        float[] scores = new float[order.length];
        for (int k = 0; k < order.length; k++) {
            labels.add(set.labels.get(order[k]));
            scores[k] = probs[order[k]];
        }
        return new Prediction(labels, scores, predicted, order, set.name, multiLabel, truncated);
    }

    public Prediction score(float[] embedding, LabelSet set, boolean multiLabel, boolean truncated) {
        return decide(probabilities(embedding, set, multiLabel), set, multiLabel, truncated);
    }

    static double dot(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new EmoliteException.BundleException("embedding has " + b.length + " values, the label set " + a.length);
        }
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += (double) a[i] * b[i];
        }
        return sum;
    }

    static int[] argsortDescending(final float[] values) {
        Integer[] idx = new Integer[values.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, new Comparator<Integer>() { // Arrays.sort on objects is stable
            @Override
            public int compare(Integer a, Integer b) {
                return Float.compare(values[b], values[a]);
            }
        });
        int[] out = new int[idx.length];
        for (int i = 0; i < idx.length; i++) {
            out[i] = idx[i];
        }
        return out;
    }
}
