package org.emolite.core;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Custom label words (the SDK's Classifier._custom_label_set): validation, the prompts a word is embedded
 * with, and its row, the L2-normalised mean of its template embeddings.
 */
public final class CustomLabels {
    private CustomLabels() {}

    /** Stripped words; refuses an empty list, blank words and duplicates that differ only in case. */
    public static List<String> validate(List<String> words) {
        if (words == null || words.isEmpty()) {
            throw new EmoliteException.InvalidInputException("labels is an empty list; give at least one label word or a label-set name");
        }
        List<String> out = new ArrayList<String>(words.size());
        Map<String, Integer> seen = new HashMap<String, Integer>();
        for (int i = 0; i < words.size(); i++) {
            String word = TextInput.strip(TextInput.require(words.get(i), "label at index " + i));
            String key = word.toUpperCase(Locale.ROOT).toLowerCase(Locale.ROOT); // close to Python's casefold()
            Integer first = seen.put(key, i);
            if (first != null) {
                throw new EmoliteException.InvalidInputException("label '" + word + "' at index " + i + " duplicates index " + first
                        + "; labels must be unique");
            }
            out.add(word);
        }
        return out;
    }

    /** Python's template.format(label=word): "{label}" is the word, "{{" and "}}" are braces. */
    public static String format(String template, String word) {
        StringBuilder out = new StringBuilder(template.length() + word.length());
        for (int i = 0; i < template.length(); i++) {
            char c = template.charAt(i);
            if (template.startsWith("{label}", i)) {
                out.append(word);
                i += "{label}".length() - 1;
            } else if ((c == '{' || c == '}') && i + 1 < template.length() && template.charAt(i + 1) == c) {
                out.append(c);
                i++;
            } else if (c == '{' || c == '}') {
                throw new EmoliteException.BundleException("label template '" + template + "' has a field other than {label}");
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    public static List<String> prompts(List<String> templates, String word) {
        List<String> out = new ArrayList<String>(templates.size());
        for (String template : templates) {
            out.add(format(template, word));
        }
        return out;
    }

    /** The mean of the template embeddings, L2-normalised. */
    public static float[] row(float[][] templateVectors) {
        int dim = templateVectors[0].length;
        double[] mean = new double[dim];
        for (float[] v : templateVectors) {
            for (int j = 0; j < dim; j++) {
                mean[j] += v[j];
            }
        }
        double norm = 0;
        for (int j = 0; j < dim; j++) {
            mean[j] /= templateVectors.length;
            norm += mean[j] * mean[j];
        }
        norm = Math.sqrt(norm);
        float[] out = new float[dim];
        for (int j = 0; j < dim; j++) {
            out[j] = (float) (mean[j] / norm);
        }
        return out;
    }

    /** A single-label set over the words, thresholds at the bundle's default (the SDK's rule for custom labels). */
    public static LabelSet labelSet(List<String> words, float[][] rows, double defaultThreshold) {
        float[] thresholds = new float[words.size()];
        java.util.Arrays.fill(thresholds, (float) defaultThreshold);
        return new LabelSet("", words, false, thresholds, rows);
    }
}
