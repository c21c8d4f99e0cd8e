package org.emolite.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.File;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.json.JSONArray;
import org.json.JSONObject;
import org.junit.BeforeClass;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * Probabilities (to 1e-5) and decisions (exactly) from given embeddings equal the SDK's Classifier: the bundle's
 * label sets, custom label words, and label sets with their own logit_scale / logit_bias.
 */
public class ScoringGoldenTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

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
        assertLabelSetsFresh();
    }

    /**
     * Label names, rules, thresholds and calibration are in the manifest, not in the .f32 files the source pins: a
     * golden file made from other values is stale, and says so before any case is compared.
     */
    private static void assertLabelSetsFresh() throws Exception {
        JSONObject made = golden.getJSONObject("label_sets");
        assertEquals(bundle.labelSetNames(), Json.keys(made));
        for (String name : bundle.labelSetNames()) {
            JSONObject want = made.getJSONObject(name);
            LabelSet set = bundle.labelSet(name);
            boolean same = Json.strings(want.getJSONArray("labels")).equals(set.labels)
                    && want.getBoolean("multi_label") == set.multiLabel
                    && Arrays.equals(Json.floats(want.getJSONArray("thresholds")), set.thresholds)
                    && (want.isNull("logit_scale") ? set.logitScale == null
                            : set.logitScale != null && want.getDouble("logit_scale") == set.logitScale)
                    && (want.isNull("logit_bias") ? set.logitBias == null
                            : Arrays.equals(Json.floats(want.getJSONArray("logit_bias")), set.logitBias));
            if (!same) {
                throw new AssertionError("golden/scoring.json was made from another version of label set '" + name
                        + "' (labels, thresholds or calibration); regenerate: " + golden.getJSONObject("source").getString("regenerate"));
            }
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

    /**
     * Label sets given their own calibration in a re-sealed copy of the bundle (as the export writes it), read back
     * through the manifest and scored with s * cos + b_i: equal to emolite.scoring with the array bias.
     */
    @Test
    public void labelSetsWithTheirOwnCalibrationMatchTheSdk() throws Exception {
        JSONObject calibrated = golden.getJSONObject("calibrated");
        JSONObject given = calibrated.getJSONObject("sets");
        File dir = TestData.copyOfBundle(tmp);
        JSONObject manifest = TestData.readManifestJson(dir);
        for (String name : Json.keys(given)) {
            JSONObject set = manifest.getJSONObject("label_sets").getJSONObject(name);
            set.put("logit_scale", given.getJSONObject(name).getDouble("logit_scale"));
            set.put("logit_bias", given.getJSONObject(name).getJSONArray("logit_bias"));
        }
        TestData.seal(dir, manifest);
        Bundle withCalibration = Bundle.open(new DirectorySource(dir), true);
        Map<String, LabelSet> sets = new HashMap<String, LabelSet>();
        for (String name : Json.keys(given)) {
            LabelSet set = withCalibration.labelSet(name);
            assertEquals(given.getJSONObject(name).getDouble("logit_scale"), set.logitScale, 0);
            float[] bias = Json.floats(given.getJSONObject(name).getJSONArray("logit_bias"));
            assertArrayEquals(bias, set.logitBias, 0f);
            sets.put(name, set);
        }
        JSONArray cases = calibrated.getJSONArray("cases");
        Scorer scorer = Scorer.of(withCalibration.manifest);
        int differ = 0;
        for (int i = 0; i < cases.length(); i++) {
            JSONObject c = cases.getJSONObject(i);
            LabelSet set = sets.get(c.getString("label_set"));
            check(c, set, scorer);
            float[] own = scorer.probabilities(vectors.get(c.getString("vector")), set, c.getBoolean("multi_label"));
            float[] global = scorer.probabilities(vectors.get(c.getString("vector")), bundle.labelSet(set.name), c.getBoolean("multi_label"));
            differ += Math.abs(own[0] - global[0]) > 1e-3 ? 1 : 0;
        }
        assertTrue("golden cases cover both rules of every calibrated set", cases.length() >= 2 * given.length());
        assertTrue("the set's own calibration changes the probabilities", differ > cases.length() / 2);
    }

    @Test
    public void malformedSetCalibrationIsRefused() throws Exception {
        String name = bundle.manifest.defaultLabelSet();
        int n = bundle.labelSet(name).labels.size();
        Object[][] bad = {
            {"logit_bias", new JSONArray().put(1.0)},
            {"logit_bias", 1.0},
            {"logit_bias", new JSONArray(Collections.nCopies(n, "1"))},
            {"logit_scale", "3"},
            {"logit_scale", 0},
            {"logit_scale", -2.5},
        };
        for (Object[] edit : bad) {
            File dir = TestData.copyOfBundle(tmp);
            JSONObject manifest = TestData.readManifestJson(dir);
            manifest.getJSONObject("label_sets").getJSONObject(name).put((String) edit[0], edit[1]);
            TestData.seal(dir, manifest);
            Bundle b = Bundle.open(new DirectorySource(dir), true);
            try {
                b.labelSet(name);
                fail("accepted " + edit[0] + " = " + edit[1]);
            } catch (EmoliteException.BundleException e) {
                assertTrue(e.getMessage(), e.getMessage().contains("label set '" + name + "'") && e.getMessage().contains((String) edit[0]));
            }
        }
    }

    @Test
    public void customLabelsUseTheBundlesScoring() {
        LabelSet custom = CustomLabels.labelSet(Arrays.asList("a", "b"), new float[][] {{1f, 0f}, {0f, 1f}}, 0.5);
        assertNull(custom.logitScale);
        assertNull(custom.logitBias);
        Scorer scorer = new Scorer(10.0, -5.0);
        float[] p = scorer.probabilities(new float[] {1f, 0f}, custom, true);
        assertEquals(1 / (1 + Math.exp(-5.0)), p[0], 1e-7);
        assertEquals(1 / (1 + Math.exp(5.0)), p[1], 1e-7);
        LabelSet own = new LabelSet("own", Arrays.asList("a", "b"), false, new float[] {0.5f, 0.5f},
                new float[][] {{1f, 0f}, {0f, 1f}}, 2.0, new float[] {0f, 1f});
        float[] q = scorer.probabilities(new float[] {1f, 0f}, own, false); // softmax(2 * [1, 0] + [0, 1]) = [0.731, 0.269]
        assertEquals(Math.exp(2) / (Math.exp(2) + Math.exp(1)), q[0], 1e-7);
    }

    private void check(JSONObject c, LabelSet set) throws Exception {
        check(c, set, Scorer.of(bundle.manifest));
    }

    private void check(JSONObject c, LabelSet set, Scorer scorer) throws Exception {
        String where = c.getString("vector") + "/" + (set.name.isEmpty() ? "custom" : set.name) + "/multi=" + c.getBoolean("multi_label");
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
