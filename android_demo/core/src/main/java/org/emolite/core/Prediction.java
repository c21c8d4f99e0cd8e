package org.emolite.core;

import java.util.Collections;
import java.util.List;

/** Scores of one text over a label set, highest first, and the predicted labels (the SDK's Prediction). */
public final class Prediction {
    public final List<String> labels;
    public final float[] scores;
    public final List<String> predicted;
    /** Row indices into the label set, in the order of {@link #labels}. */
    public final int[] order;
    public final String labelSet;
    public final boolean multiLabel;
    public final boolean truncated;

    Prediction(List<String> labels, float[] scores, List<String> predicted, int[] order, String labelSet, boolean multiLabel,
            boolean truncated) {
        this.labels = Collections.unmodifiableList(labels);
        this.scores = scores;
        this.predicted = Collections.unmodifiableList(predicted);
        this.order = order;
        this.labelSet = labelSet;
        this.multiLabel = multiLabel;
        this.truncated = truncated;
    }

    public String top() {
        return labels.get(0);
    }
}
