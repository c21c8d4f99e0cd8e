package org.emolite.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.json.JSONArray;
import org.json.JSONObject;
import org.junit.BeforeClass;
import org.junit.Test;

/** Probabilities (to 1e-5) and decisions (exactly) from given embeddings equal the SDK's Classifier. */
public class ScoringGoldenTest {
    private static JSONObject golden;
    private static Bundle bundle;
    private static Map<String, float[]> vectors;
    private static double tolerance;

    @BeforeClass
    public static void load() throws Exception {
        golden = TestData.golden("scoring.json");
        bundle = TestData.bundle();
        tolerance = golden.getDouble("tolerance");
        vectors = new HashMap<String, float[]>();
        JSONObject given = golden.getJSONObject("vectors");
        for (String name : Json.keys(given)) {
            vectors.put(name, TestData.floats(given.getString(name)));
        }
    }

    @Test
    public void scoringParametersComeFromTheManifest() throws Exception {
        assertEquals(golden.getDouble("logit_scale"), bundle.manifest.logitScale(), 0);
        assertEquals(golden.getDouble("logit_bias"), bundle.manifest.logitBias(), 0);
    }

    @Test
    public void labelSetsMatchTheSdk() throws Exception {
        JSONArray cases = golden.getJSONArray("cases");
        Map<String, LabelSet> sets = new HashMap<String, LabelSet>();
        for (String name : bundle.labelSetNames()) {
            sets.put(name, bundle.labelSet(name));
        }
        for (int i = 0; i < cases.length(); i++) {
            JSONObject c = cases.getJSONObject(i);
            check(c, sets.get(c.getString("label_set")));
        }
        assertTrue("golden cases cover every label set", cases.length() >= 2 * sets.size());
    }

    @Test
    public void customLabelRowsMatchTheSdk() throws Exception {
        JSONObject custom = golden.getJSONObject("custom");
        List<String> words = Json.strings(custom.getJSONArray("words"));
        float[][] rows = new float[words.size()][];
        for (int w = 0; w < words.size(); w++) {
            JSONArray templates = custom.getJSONObject("template_vectors").getJSONArray(words.get(w));
            float[][] given = new float[templates.length()][];
            for (int t = 0; t < given.length; t++) {
                given[t] = TestData.floats(templates.getString(t));
            }
            rows[w] = CustomLabels.row(given);
            float[] want = TestData.floats(custom.getJSONObject("rows").getString(words.get(w)));
            for (int j = 0; j < want.length; j++) {
                assertEquals(words.get(w) + "[" + j + "]", want[j], rows[w][j], 1e-6);
            }
        }
        assertEquals(bundle.manifest.labelTemplates(), Json.strings(custom.getJSONArray("templates")));
        assertEquals(custom.getDouble("default_threshold"), bundle.manifest.defaultThreshold(), 0);
        LabelSet set = CustomLabels.labelSet(CustomLabels.validate(words), rows, bundle.manifest.defaultThreshold());
        JSONArray cases = custom.getJSONArray("cases");
        for (int i = 0; i < cases.length(); i++) {
            check(cases.getJSONObject(i), set);
        }
        assertTrue(cases.length() > 0);
    }

    private void check(JSONObject c, LabelSet set) throws Exception {
        String where = c.getString("vector") + "/" + (set.name.isEmpty() ? "custom" : set.name) + "/multi=" + c.getBoolean("multi_label");
        Scorer scorer = Scorer.of(bundle.manifest);
        float[] probs = scorer.probabilities(vectors.get(c.getString("vector")), set, c.getBoolean("multi_label"));
        JSONArray want = c.getJSONArray("scores");
        assertEquals(where, want.length(), probs.length);
        for (int j = 0; j < probs.length; j++) {
            assertEquals(where + " " + set.labels.get(j), want.getDouble(j), probs[j], tolerance);
        }
        Prediction p = scorer.decide(probs, set, c.getBoolean("multi_label"), false);
        assertEquals(where + " predicted", Json.strings(c.getJSONArray("predicted")), new ArrayList<String>(p.predicted));
        JSONArray order = c.getJSONArray("order");
        for (int k = 0; k < order.length(); k++) {
            int expected = order.getInt(k);
            // equal up to swaps of scores closer than the tolerance (float32 vs double rounding)
            boolean same = expected == p.order[k] || Math.abs(probs[expected] - probs[p.order[k]]) < tolerance;
            assertTrue(where + " order at " + k, same);
        }
    }
}
