package org.emolite.core;

/** Step 3 of the bundle contract: the runtime must reproduce the bundle's golden vectors before it is trusted. */
public final class GoldenCheck {
    private GoldenCheck() {}

    /** The smallest cosine between each row and its expected row; NaN if any is NaN. */
    public static double worstCosine(float[][] got, float[][] expected) {
        if (got.length != expected.length || got.length == 0) {
            throw new EmoliteException.RuntimeVerificationException("got " + got.length + " golden embeddings, expected " + expected.length);
        }
        double worst = Double.POSITIVE_INFINITY;
        for (int i = 0; i < got.length; i++) {
            double cos = got[i].length == expected[i].length ? Scorer.dot(expected[i], got[i]) : Double.NaN;
            if (Double.isNaN(cos)) {
                return Double.NaN;
            }
            worst = Math.min(worst, cos);
        }
        return worst;
    }

    /** Throws unless every cosine reaches minCosine ("not >=" so NaN fails too). */
    public static double verify(String format, float[][] got, float[][] expected, double minCosine) {
        double worst = worstCosine(got, expected);
        if (!(worst >= minCosine)) {
            throw new EmoliteException.RuntimeVerificationException("the " + format + " runtime gives wrong embeddings for this bundle "
                    + "(golden-vector cosine " + worst + " < " + minCosine + "); its output cannot be trusted");
        }
        return worst;
    }
}
