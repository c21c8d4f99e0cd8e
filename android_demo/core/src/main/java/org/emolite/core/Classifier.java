package org.emolite.core;

import java.util.List;

/**
 * Tokenise, embed with the runtime, score: the SDK's Classifier for one text at a time. The runtime proves itself
 * on the bundle's golden vectors in the constructor, before anything is classified.
 *
 * <p>One text per inference: with dynamic int8 ONNX a text's activations are quantised together with its
 * batch-mates', so batching would make its scores depend on them (the SDK uses batch 1 for the same reason).
 */
public final class Classifier {
    public final Bundle bundle;
    private final EmbeddingRuntime runtime;
    private final Scorer scorer;
    private final LabelCache cache;
    private final List<String> templates;
    private final double goldenCosine;

    public Classifier(Bundle bundle, EmbeddingRuntime runtime, LabelCache cache) throws Exception {
        this.bundle = bundle;
        this.runtime = runtime;
        this.scorer = Scorer.of(bundle.manifest);
        this.cache = cache;
        this.templates = bundle.manifest.labelTemplates();
        this.goldenCosine = verifyRuntime();
    }

    /** Worst golden-vector cosine the runtime reached (shown by the app as proof of a sound runtime). */
    public double goldenCosine() {
        return goldenCosine;
    }

    private double verifyRuntime() throws Exception {
        float[][] expected = bundle.manifest.goldenEmbeddings(runtime.format());
        if (expected == null) {
            throw new EmoliteException.RuntimeVerificationException("bundle has no golden vectors for the " + runtime.format()
                    + " runtime; re-export the bundle");
        }
        List<String> texts = bundle.manifest.goldenTexts();
        float[][] got = new float[texts.size()][];
        for (int i = 0; i < got.length; i++) {
            got[i] = embed(texts.get(i));
        }
        return GoldenCheck.verify(runtime.format(), got, expected, bundle.manifest.goldenMinCosine());
    }

    public float[] embed(String text) throws Exception {
        return embed(bundle.tokenizer.encode(text));
    }

    private float[] embed(Encoding encoding) throws Exception {
        long[] ids = new long[encoding.ids.length];
        long[] mask = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = encoding.ids[i];
            mask[i] = 1;
        }
        return runtime.embed(ids, mask);
    }

    /** Classify over a named label set; multiLabel null means the set's own rule. */
    public Prediction predict(String text, String labelSet, Boolean multiLabel) throws Exception {
        LabelSet set = bundle.labelSet(labelSet == null ? bundle.manifest.defaultLabelSet() : labelSet);
        return classify(text, set, multiLabel);
    }

    /** Classify over custom label words (single-label unless multiLabel says otherwise). */
    public Prediction predictCustom(String text, List<String> words, Boolean multiLabel) throws Exception {
        return classify(text, customLabelSet(words), multiLabel);
    }

    private Prediction classify(String text, LabelSet set, Boolean multiLabel) throws Exception {
        Encoding encoding = bundle.tokenizer.encode(TextInput.require(text, "text"));
        boolean multi = multiLabel == null ? set.multiLabel : multiLabel;
        return scorer.score(embed(encoding), set, multi, encoding.truncated);
    }

    public LabelSet customLabelSet(List<String> words) throws Exception {
        List<String> clean = CustomLabels.validate(words);
        float[][] rows = new float[clean.size()][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = labelRow(clean.get(i));
        }
        return CustomLabels.labelSet(clean, rows, bundle.manifest.defaultThreshold());
    }

    /** A word's row from the cache, or embedded now from its templates and cached. */
    public float[] labelRow(String word) throws Exception {
        float[] row = cache.get(word);
        if (row == null) {
            List<String> prompts = CustomLabels.prompts(templates, word);
            float[][] vectors = new float[prompts.size()][];
            for (int i = 0; i < vectors.length; i++) {
                vectors[i] = embed(prompts.get(i));
            }
            row = CustomLabels.row(vectors);
            cache.put(word, row);
        }
        return row;
    }

    public LabelCache cache() {
        return cache;
    }
}
