package org.emolite.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import org.junit.Test;

/** Golden-vector check, label cache, custom label rules, input rules. */
public class SmallPartsTest {
    @Test
    public void goldenVectorsOfTheManifestPassAgainstThemselves() throws Exception {
        Manifest m = TestData.bundle().manifest;
        float[][] golden = m.goldenEmbeddings("onnx");
        double worst = GoldenCheck.verify("onnx", golden, golden, m.goldenMinCosine());
        assertEquals(1.0, worst, 1e-4);
    }

    @Test
    public void wrongOrNanEmbeddingsAreRefused() throws Exception {
        Manifest m = TestData.bundle().manifest;
        float[][] golden = m.goldenEmbeddings("onnx");
        float[][] shifted = new float[golden.length][];
        for (int i = 0; i < golden.length; i++) {
            shifted[i] = golden[(i + 1) % golden.length]; // another text's embedding
        }
        expectRefused(shifted, golden, m.goldenMinCosine());
        float[][] nan = new float[golden.length][];
        for (int i = 0; i < golden.length; i++) {
            nan[i] = golden[i].clone();
        }
        nan[0][0] = Float.NaN;
        expectRefused(nan, golden, m.goldenMinCosine());
    }

    private static void expectRefused(float[][] got, float[][] golden, double min) {
        try {
            GoldenCheck.verify("onnx", got, golden, min);
            fail("wrong embeddings passed the golden check");
        } catch (EmoliteException.RuntimeVerificationException e) {
            assertTrue(e.getMessage().contains("cannot be trusted"));
        }
    }

    @Test
    public void labelCacheRoundTripsAndIgnoresOtherModels() throws Exception {
        LabelCache cache = new LabelCache("model-a", 3);
        cache.put("nostalgia", new float[] {0.6f, 0.8f, 0f});
        cache.put("Ennui", new float[] {0f, 0f, 1f});
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        cache.writeTo(out);
        LabelCache back = LabelCache.readFrom(new ByteArrayInputStream(out.toByteArray()), "model-a", 3);
        assertEquals(2, back.size());
        assertArrayEquals(new float[] {0.6f, 0.8f, 0f}, back.get("nostalgia"), 0f);
        assertEquals(0, LabelCache.readFrom(new ByteArrayInputStream(out.toByteArray()), "model-b", 3).size());
        assertEquals(0, LabelCache.readFrom(new ByteArrayInputStream(new byte[] {1, 2, 3}), "model-a", 3).size());
        assertNull(back.get("missing"));
    }

    @Test
    public void templatesFormatLikePython() {
        assertEquals("I feel joy.", CustomLabels.format("I feel {label}.", "joy"));
        assertEquals("{label} joy {x}", CustomLabels.format("{{label}} {label} {{x}}", "joy"));
        try {
            CustomLabels.format("I feel {mood}", "joy");
            fail("unknown field accepted");
        } catch (EmoliteException.BundleException e) {
            assertTrue(e.getMessage().contains("{label}"));
        }
    }

    @Test
    public void customWordsAreStrippedAndDuplicatesRefused() {
        assertEquals(Arrays.asList("joy", "grief"), CustomLabels.validate(Arrays.asList(" joy ", "\tgrief\u3000")));
        String[][] bad = {{}, {"joy", "JOY"}, {"joy", " "}, {"straße", "STRASSE"}};
        for (String[] words : bad) {
            try {
                CustomLabels.validate(Arrays.asList(words));
                fail("accepted " + Arrays.toString(words));
            } catch (EmoliteException.InvalidInputException e) {
                assertTrue(e.getMessage().length() > 0);
            }
        }
    }

    @Test
    public void customRowIsTheNormalisedMean() {
        float[] row = CustomLabels.row(new float[][] {{1f, 0f}, {0f, 1f}});
        assertArrayEquals(new float[] {(float) Math.sqrt(0.5), (float) Math.sqrt(0.5)}, row, 1e-7f);
    }

    @Test
    public void blankTextIsRefused() {
        TextInput.require("ok", "text");
        for (String blank : new String[] {"", " ", "\t\n", "\u3000\u00a0", "\u001c"}) {
            try {
                TextInput.require(blank, "text");
                fail("blank accepted: " + Arrays.toString(blank.toCharArray()));
            } catch (EmoliteException.InvalidInputException e) {
                assertTrue(e.getMessage().contains("nothing to classify"));
            }
        }
    }
}
