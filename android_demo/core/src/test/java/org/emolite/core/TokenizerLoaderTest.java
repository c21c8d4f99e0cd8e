package org.emolite.core;

import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.File;
import java.nio.file.Files;
import java.util.Map;
import org.json.JSONObject;
import org.junit.BeforeClass;
import org.junit.Test;

/** A tokenizer.json that asks for something this port does not do is refused, not silently mis-tokenised. */
public class TokenizerLoaderTest {
    private static JSONObject manifestTok;
    private static Map<String, Integer> vocab;
    private static String tokenizerJson;

    @BeforeClass
    public static void load() throws Exception {
        File dir = TestData.bundleDir();
        Bundle bundle = TestData.bundle();
        manifestTok = bundle.manifest.tokenizer();
        vocab = TokenizerLoader.readVocab(new String(Files.readAllBytes(new File(dir, "vocab.txt").toPath()), Streams.UTF8));
        tokenizerJson = new String(Files.readAllBytes(new File(dir, "tokenizer.json").toPath()), Streams.UTF8);
    }

    @Test
    public void shippedTokenizerLoads() throws Exception {
        TokenizerLoader.build(manifestTok, vocab, new JSONObject(tokenizerJson));
    }

    @Test
    public void manifestDisagreeingWithTokenizerJsonIsRefused() throws Exception {
        JSONObject tok = new JSONObject(manifestTok.toString());
        tok.put("lowercase", !tok.getBoolean("lowercase"));
        refused(tok, new JSONObject(tokenizerJson), "disagree");
    }

    @Test
    public void otherModelTypeIsRefused() throws Exception {
        JSONObject hf = new JSONObject(tokenizerJson);
        hf.getJSONObject("model").put("type", "BPE");
        refused(manifestTok, hf, "model BPE");
    }

    @Test
    public void strippingAddedTokenIsRefused() throws Exception {
        JSONObject hf = new JSONObject(tokenizerJson);
        hf.getJSONArray("added_tokens").getJSONObject(0).put("lstrip", true);
        refused(manifestTok, hf, "lstrip");
    }

    @Test
    public void vocabDifferentFromTokenizerJsonIsRefused() throws Exception {
        Map<String, Integer> other = new java.util.HashMap<String, Integer>(vocab);
        other.put("emolite-extra-token", other.size());
        try {
            TokenizerLoader.build(manifestTok, other, new JSONObject(tokenizerJson));
            fail("a vocab.txt different from tokenizer.json was accepted");
        } catch (EmoliteException.BundleException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("vocab.txt"));
        }
    }

    @Test
    public void duplicateVocabLineIsRefused() {
        try {
            TokenizerLoader.readVocab("[PAD]\na\nb\na\n");
            fail("duplicate accepted");
        } catch (EmoliteException.BundleException e) {
            assertTrue(e.getMessage().contains("twice"));
        }
    }

    private static void refused(JSONObject tok, JSONObject hf, String message) {
        try {
            TokenizerLoader.build(tok, vocab, hf);
            fail("accepted; expected a refusal mentioning " + message);
        } catch (EmoliteException.BundleException e) {
            assertTrue(e.getMessage(), e.getMessage().contains(message));
        }
    }
}
