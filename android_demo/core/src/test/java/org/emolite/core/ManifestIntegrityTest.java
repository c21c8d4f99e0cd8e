package org.emolite.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import org.json.JSONArray;
import org.json.JSONException;
import org.json.JSONObject;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * Format v2's manifest.sha256: a manifest.json that differs from its digest is refused before it is parsed, with
 * file verification on or off. Each edit below keeps the manifest valid JSON and changes the classifier's answers;
 * the test proves both (re-sealed, the edited bundle loads and answers differently) and that, unsealed, it is
 * refused by the integrity check and nothing else.
 */
public class ManifestIntegrityTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    /** An edit of the parsed manifest; the copy is re-serialised with org.json. */
    private interface Edit {
        void apply(JSONObject manifest) throws JSONException;
    }

    @Test
    public void untouchedCopyLoads() throws Exception {
        File dir = TestData.copyOfBundle(tmp);
        for (boolean verify : new boolean[] {false, true}) {
            Bundle bundle = Bundle.open(new DirectorySource(dir), verify);
            assertEquals(Manifest.FORMAT_VERSION, bundle.manifest.json().getInt("format_version"));
        }
        assertEquals(answer(Bundle.open(new DirectorySource(TestData.bundleDir()), true)),
                answer(Bundle.open(new DirectorySource(dir), true)));
    }

    @Test
    public void shippedDigestIsTheWritersFormat() throws Exception {
        File dir = TestData.bundleDir();
        byte[] digest = Files.readAllBytes(dir.toPath().resolve(Manifest.DIGEST_FILE));
        byte[] manifest = Files.readAllBytes(dir.toPath().resolve(Manifest.FILE));
        assertEquals(TestData.sha256(manifest) + "\n", new String(digest, Streams.UTF8));
        assertEquals(TestData.sha256(manifest), Manifest.read(new DirectorySource(dir)).sha256());
        JSONObject files = TestData.readManifestJson(dir).getJSONObject("files");
        assertFalse("files lists manifest.json", files.has(Manifest.FILE));
        assertFalse("files lists manifest.sha256", files.has(Manifest.DIGEST_FILE));
    }

    @Test
    public void everyDefaultThresholdAt0001IsRefused() throws Exception {
        expectAnswerChangingEditRefused("thresholds 0.001", m -> {
            JSONArray thresholds = defaultSet(m).getJSONArray("thresholds");
            for (int i = 0; i < thresholds.length(); i++) {
                thresholds.put(i, 0.001);
            }
        });
    }

    /** The bias the default set is scored with: its own (first label's) when it has one, else the bundle's. */
    @Test
    public void logitBiasPlus8IsRefused() throws Exception {
        expectAnswerChangingEditRefused("logit_bias + 8", m -> {
            JSONArray own = defaultSet(m).optJSONArray("logit_bias");
            if (own != null) {
                own.put(0, own.getDouble(0) + 8);
            } else {
                JSONObject scoring = m.getJSONObject("scoring");
                scoring.put("logit_bias", scoring.getDouble("logit_bias") + 8);
            }
        });
    }

    /** The scale the default set is scored with: its own when it has one, else the bundle's. */
    @Test
    public void logitScaleTimes3IsRefused() throws Exception {
        expectAnswerChangingEditRefused("logit_scale x 3", m -> {
            JSONObject owner = defaultSet(m).has("logit_scale") && !defaultSet(m).isNull("logit_scale") ? defaultSet(m)
                    : m.getJSONObject("scoring");
            owner.put("logit_scale", owner.getDouble("logit_scale") * 3);
        });
    }

    /** A per-label bias given to (or changed in) the default set: the set's own calibration is protected too. */
    @Test
    public void setOwnLogitBiasIsRefused() throws Exception {
        expectAnswerChangingEditRefused("the default set's own logit_bias", m -> {
            JSONObject set = defaultSet(m);
            JSONArray bias = set.optJSONArray("logit_bias");
            if (bias == null) {
                bias = new JSONArray();
                for (int i = 0; i < set.getJSONArray("labels").length(); i++) {
                    bias.put(m.getJSONObject("scoring").getDouble("logit_bias"));
                }
                set.put("logit_bias", bias);
            }
            bias.put(0, bias.getDouble(0) + 8);
        });
    }

    /** The emoji table changes token ids: a changed table is refused by file verification like any listed file. */
    @Test
    public void changedEmojiTableIsRefused() throws Exception {
        File dir = TestData.bundleWithEmojiTable(tmp);
        if (dir.equals(TestData.bundleDir())) {
            dir = TestData.copyOfBundle(tmp);
        }
        Path table = TestData.emojiTableOf(dir).toPath();
        String text = new String(Files.readAllBytes(table), Streams.UTF8);
        Files.delete(table);
        Files.write(table, text.replace("\"red heart\"", "\"red heard\"") /* same size: the sha256 decides */.getBytes(Streams.UTF8));
        try {
            Bundle.open(new DirectorySource(dir), true);
            fail("a changed emoji table was accepted");
        } catch (EmoliteException.BundleException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("fails its sha256 check"));
        }
    }

    @Test
    public void swappedLabelNamesAreRefused() throws Exception {
        expectAnswerChangingEditRefused("two label names swapped", m -> {
            JSONArray labels = defaultSet(m).getJSONArray("labels");
            Object first = labels.get(0);
            labels.put(0, labels.get(1));
            labels.put(1, first);
        });
    }

    @Test
    public void oneAddedSpaceIsRefused() throws Exception {
        File dir = TestData.copyOfBundle(tmp);
        Path manifest = dir.toPath().resolve(Manifest.FILE);
        byte[] raw = Files.readAllBytes(manifest);
        Files.write(manifest, (new String(raw, Streams.UTF8) + " ").getBytes(Streams.UTF8));
        expectIntegrityError(dir);
    }

    @Test
    public void truncatedManifestFailsTheDigestNotTheParser() throws Exception {
        File dir = TestData.copyOfBundle(tmp);
        Path manifest = dir.toPath().resolve(Manifest.FILE);
        byte[] raw = Files.readAllBytes(manifest);
        Files.write(manifest, Arrays.copyOf(raw, raw.length / 2));
        expectIntegrityError(dir);
    }

    @Test
    public void missingDigestIsRefused() throws Exception {
        File dir = TestData.copyOfBundle(tmp);
        Files.delete(dir.toPath().resolve(Manifest.DIGEST_FILE));
        for (boolean verify : new boolean[] {false, true}) {
            String message = refusal(dir, verify);
            assertTrue(message, message.contains("has no manifest.sha256") && message.contains("re-export the bundle"));
        }
    }

    /** Each refused here is refused by the SDK's reader as well (checked against emolite.bundle.check_manifest_digest). */
    @Test
    public void garbageDigestIsRefused() throws Exception {
        File dir = TestData.copyOfBundle(tmp);
        String good = digestOf(dir);
        char[] longLine = new char[5000];
        Arrays.fill(longLine, 'a');
        String[] garbage = {"", "\n", "not a sha256\n", good.substring(1) + "\n", good + "0\n", good.replace(good.charAt(0), 'g'),
                good + "  manifest.json\n", "sha256:" + good, new String(longLine), good + "\u0000", "\u00a0" + good, "\ufeff" + good};
        for (String content : garbage) {
            Files.write(dir.toPath().resolve(Manifest.DIGEST_FILE), content.getBytes(Streams.UTF8));
            for (boolean verify : new boolean[] {false, true}) {
                String message = refusal(dir, verify);
                assertTrue(content + " -> " + message, message.contains("manifest.sha256 is not a sha256"));
            }
        }
    }

    @Test
    public void wellFormedWrongDigestIsRefused() throws Exception {
        File dir = TestData.copyOfBundle(tmp);
        Files.write(dir.toPath().resolve(Manifest.DIGEST_FILE), (TestData.sha256(new byte[0]) + "\n").getBytes(Streams.UTF8));
        expectIntegrityError(dir);
    }

    @Test
    public void whitespaceAroundTheDigestIsAccepted() throws Exception {
        File dir = TestData.copyOfBundle(tmp);
        String good = digestOf(dir);
        // what the SDK's reader accepts too: Python's str.strip() whitespace around it, either case of hex
        String[] accepted = {good, good + "\r\n", "  " + good + "\n\n", "\t" + good + " \n", good + "\u001c",
                good.toUpperCase(Locale.ROOT) + "\n"};
        for (String content : accepted) {
            Files.write(dir.toPath().resolve(Manifest.DIGEST_FILE), content.getBytes(Streams.UTF8));
            Bundle.open(new DirectorySource(dir), false);
        }
    }

    @Test
    public void formatVersion1IsRefusedEvenWhenSealed() throws Exception {
        File dir = TestData.copyOfBundle(tmp);
        JSONObject manifest = TestData.readManifestJson(dir);
        manifest.put("format_version", 1);
        TestData.writeManifestJson(dir, manifest);
        TestData.reseal(dir);
        try {
            Bundle.open(new DirectorySource(dir), true);
            fail("format_version 1 was accepted");
        } catch (EmoliteException.UnsupportedVersionException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("format version 1") && e.getMessage().contains("re-export"));
        }
    }

    @Test
    public void newerFormatVersionIsRefused() throws Exception {
        File dir = TestData.copyOfBundle(tmp);
        JSONObject manifest = TestData.readManifestJson(dir);
        manifest.put("format_version", Manifest.FORMAT_VERSION + 1);
        TestData.writeManifestJson(dir, manifest);
        TestData.reseal(dir);
        try {
            Bundle.open(new DirectorySource(dir), false);
            fail("format_version " + (Manifest.FORMAT_VERSION + 1) + " was accepted");
        } catch (EmoliteException.UnsupportedVersionException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("format version " + (Manifest.FORMAT_VERSION + 1))
                    && e.getMessage().contains("update the app"));
        }
    }

    // -- helpers ----------------------------------------------------------------------------------------------------

    /**
     * The edited manifest, re-sealed, loads and answers differently from the original (so the edit matters and is
     * otherwise acceptable); unsealed, it is refused by the integrity check with verification off and on.
     */
    private void expectAnswerChangingEditRefused(String what, Edit edit) throws Exception {
        String before = answer(Bundle.open(new DirectorySource(TestData.bundleDir()), true));

        File sealed = TestData.copyOfBundle(tmp);
        JSONObject manifest = TestData.readManifestJson(sealed);
        edit.apply(manifest);
        TestData.writeManifestJson(sealed, manifest);
        TestData.reseal(sealed);
        String after = answer(Bundle.open(new DirectorySource(sealed), true));
        assertNotEquals(what + " does not change the answer, so it proves nothing", before, after);

        File edited = TestData.copyOfBundle(tmp);
        TestData.writeManifestJson(edited, manifest);
        expectIntegrityError(edited);
    }

    private static void expectIntegrityError(File dir) throws IOException {
        for (boolean verify : new boolean[] {false, true}) {
            String message = refusal(dir, verify);
            assertTrue(message, message.contains("manifest.json fails its integrity check")
                    && message.contains("differs from manifest.sha256"));
        }
    }

    /** The BundleException message of a refused bundle (a version refusal would be a wrong reason: not accepted). */
    private static String refusal(File dir, boolean verify) throws IOException {
        try {
            Bundle.open(new DirectorySource(dir), verify);
        } catch (EmoliteException.UnsupportedVersionException e) {
            throw new AssertionError("refused for its version, not by the digest: " + e.getMessage(), e);
        } catch (EmoliteException.BundleException e) {
            return e.getMessage();
        }
        throw new AssertionError("bundle " + dir + " was accepted (verify=" + verify + ")");
    }

    /** The default label set's full answer (labels, scores, predicted) for the manifest's first golden vector. */
    private static String answer(Bundle bundle) throws IOException {
        String set = bundle.manifest.defaultLabelSet();
        LabelSet labels = bundle.labelSet(set);
        float[] vector = bundle.manifest.goldenEmbeddings("onnx")[0];
        Prediction p = Scorer.of(bundle.manifest).score(vector, labels, labels.multiLabel, false);
        StringBuilder out = new StringBuilder(set).append(": predicted ").append(p.predicted).append(";");
        for (int i = 0; i < p.labels.size(); i++) {
            out.append(String.format(Locale.ROOT, " %s=%.6f", p.labels.get(i), p.scores[i]));
        }
        return out.toString();
    }

    private static JSONObject defaultSet(JSONObject manifest) throws JSONException {
        return manifest.getJSONObject("label_sets").getJSONObject(manifest.getString("default_label_set"));
    }

    private static String digestOf(File dir) throws IOException {
        return TestData.sha256(Files.readAllBytes(dir.toPath().resolve(Manifest.FILE)));
    }
}
