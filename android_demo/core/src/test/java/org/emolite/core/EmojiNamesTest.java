package org.emolite.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.File;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.json.JSONObject;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The emoji table: every key of the SDK's table maps to its name; the file is checked as the SDK checks it; a
 * bundle's preprocessing entry is read under the integrity check; a bundle without one tokenises as before; the
 * scan never splits a surrogate pair and compares whole keys.
 */
public class EmojiNamesTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void everyKeyOfTheTableMapsToItsName() throws Exception {
        File dir = TestData.bundleWithEmojiTable(tmp);
        // the table read here with org.json, independently of EmojiNames.parse
        JSONObject names = new JSONObject(new String(Files.readAllBytes(TestData.emojiTableOf(dir).toPath()), Streams.UTF8))
                .getJSONObject("names");
        EmojiNames table = Bundle.open(new DirectorySource(dir), true).tokenizer.emojiNames();
        assertEquals(names.length(), table.size());
        for (String key : Json.keys(names)) {
            String name = names.getString(key);
            assertEquals(JSONObject.quote(key), " " + name + " ", table.apply(key));
            assertEquals(JSONObject.quote(key), "a " + name + " z", table.apply("a" + key + "z"));
        }
        assertTrue("the SDK's table has thousands of keys", table.size() > 1000);
    }

    @Test
    public void bundleWithoutPreprocessingTokenisesAsBefore() throws Exception {
        File dir = TestData.copyOfBundle(tmp);
        JSONObject manifest = TestData.readManifestJson(dir);
        manifest.remove("preprocessing"); // what the shipped bundle is before its re-export
        TestData.seal(dir, manifest);
        Bundle bundle = Bundle.open(new DirectorySource(dir), true);
        assertNull(bundle.manifest.emojiNamesFile());
        assertNull(bundle.tokenizer.emojiNames());
        String text = "I'm so proud of you 🥹😀👍🏽";
        assertEquals(text, bundle.tokenizer.preprocess(text));
        Bundle withTable = Bundle.open(new DirectorySource(TestData.bundleWithEmojiTable(tmp)), true);
        assertTrue("the table changes the ids of emoji",
                !Arrays.equals(bundle.tokenizer.encode(text).ids, withTable.tokenizer.encode(text).ids));
        String ascii = "I can't believe I won the lottery!!! #1 :)";
        assertTrue(Arrays.equals(bundle.tokenizer.encode(ascii).ids, withTable.tokenizer.encode(ascii).ids));
    }

    @Test
    public void emptyOrNullPreprocessingMeansNoTable() throws Exception {
        for (Object pre : new Object[] {JSONObject.NULL, new JSONObject(), new JSONObject().put("emoji_names", JSONObject.NULL),
                new JSONObject().put("emoji_names", "")}) {
            File dir = TestData.copyOfBundle(tmp);
            JSONObject manifest = TestData.readManifestJson(dir);
            manifest.put("preprocessing", pre);
            TestData.seal(dir, manifest);
            assertNull(pre.toString(), Bundle.open(new DirectorySource(dir), true).tokenizer.emojiNames());
        }
    }

    @Test
    public void badTableFilesAreRefused() {
        String[] bad = {
            "[]",
            "not json",
            "{\"names\": {\"\\ud83d\\ude00\": \"grinning face\"}}",
            "{\"format\": \"emoji\", \"names\": {\"\\ud83d\\ude00\": \"grinning face\"}}",
            "{\"format\": \"emolite-emoji-names\"}",
            "{\"format\": \"emolite-emoji-names\", \"names\": [\"\\ud83d\\ude00\"]}",
            "{\"format\": \"emolite-emoji-names\", \"names\": {\"\": \"nothing\"}}",
            "{\"format\": \"emolite-emoji-names\", \"names\": {\":)\": \"smile\"}}",
            "{\"format\": \"emolite-emoji-names\", \"names\": {\"\\ud83d\\ude00\": \"\"}}",
            "{\"format\": \"emolite-emoji-names\", \"names\": {\"\\ud83d\\ude00\": \" \\u3000\\n\"}}",
            "{\"format\": \"emolite-emoji-names\", \"names\": {\"\\ud83d\\ude00\": 1}}",
            "{\"format\": \"emolite-emoji-names\", \"names\": {\"\\ud83d\\ude00\": null}}",
            "{\"format\": \"emolite-emoji-names\", \"names\": {\"\\ud83d\\ude00\": [\"grinning face\"]}}",
        };
        for (String text : bad) {
            try {
                EmojiNames.parse(text, "emoji.json");
                fail("accepted " + text);
            } catch (EmoliteException.BundleException e) {
                assertTrue(text + " -> " + e.getMessage(), e.getMessage().startsWith("emoji.json is not"));
            }
        }
        // what the SDK accepts too: an empty table (nothing is replaced) and unknown fields
        EmojiNames empty = EmojiNames.parse("{\"format\": \"emolite-emoji-names\", \"names\": {}, \"extra\": 1}", "emoji.json");
        assertEquals("😀", empty.apply("😀"));
    }

    @Test
    public void unlistedTamperedOrInvalidTableInABundleIsRefused() throws Exception {
        // named but not listed in files
        File unlisted = TestData.copyOfBundle(tmp);
        JSONObject manifest = TestData.readManifestJson(unlisted);
        Files.write(unlisted.toPath().resolve("names.json"), Files.readAllBytes(TestData.sdkEmojiTable().toPath()));
        manifest.put("preprocessing", new JSONObject().put("emoji_names", "names.json"));
        TestData.seal(unlisted, manifest);
        expectRefused(unlisted, false, "'names.json' is used but not listed");

        // listed, then changed (one name): file verification refuses it
        File tampered = TestData.bundleWithEmojiTable(tmp);
        if (tampered.equals(TestData.bundleDir())) { // the shipped bundle has the table: damage a copy, not it
            tampered = TestData.copyOfBundle(tmp);
        }
        File table = TestData.emojiTableOf(tampered);
        String text = new String(Files.readAllBytes(table.toPath()), Streams.UTF8);
        Files.delete(table.toPath());
        Files.write(table.toPath(), text.replace("\"grinning face\"", "\"grinning fact\"").getBytes(Streams.UTF8));
        expectRefused(tampered, true, "fails its sha256 check");

        // listed and sealed but not a table
        File invalid = TestData.copyOfBundle(tmp);
        manifest = TestData.readManifestJson(invalid);
        TestData.addFile(invalid, manifest, "emoji.json", "{\"format\": \"emolite-emoji-names\", \"names\": {\"x\": \"x\"}}"
                .getBytes(Streams.UTF8));
        manifest.put("preprocessing", new JSONObject().put("emoji_names", "emoji.json"));
        TestData.seal(invalid, manifest);
        expectRefused(invalid, true, "emoji.json is not an emoji table of format emolite-emoji-names");

        // a path leaving the bundle
        File outside = TestData.copyOfBundle(tmp);
        manifest = TestData.readManifestJson(outside);
        manifest.put("preprocessing", new JSONObject().put("emoji_names", "../emoji.json"));
        TestData.seal(outside, manifest);
        expectRefused(outside, false, "'../emoji.json' is used but not listed");
    }

    @Test
    public void unknownPreprocessingIsRefused() throws Exception {
        File dir = TestData.copyOfBundle(tmp);
        JSONObject manifest = TestData.readManifestJson(dir);
        manifest.put("preprocessing", new JSONObject().put("lowercase_urls", true));
        TestData.seal(dir, manifest);
        expectRefused(dir, false, "preprocessing step 'lowercase_urls' is not one this app implements");
        manifest.put("preprocessing", "emoji.json");
        TestData.seal(dir, manifest);
        expectRefused(dir, false, "'preprocessing' is not an object");
    }

    @Test
    public void longestKeyWinsAndScanningResumesAfterIt() {
        EmojiNames t = table("#\u20e3", "keycap #", "\u20e3", "enclosing keycap", "\ud83d\udc68", "man",
                "\ud83d\udc68\u200d\ud83d\udc69", "man woman", "\ud83c\udde6\ud83c\udde8", "Ascension", "\ud83c\udde8\ud83c\udde6", "Canada");
        assertEquals("# keycap # ", t.apply("##\u20e3"));
        assertEquals(" enclosing keycap x", t.apply("\u20e3x"));
        assertEquals(" man woman \u200d", t.apply("\ud83d\udc68\u200d\ud83d\udc69\u200d"));
        assertEquals(" man \u200d", t.apply("\ud83d\udc68\u200d"));
        // left to right: AC, then a lone A (not CA)
        assertEquals(" Ascension \ud83c\udde6", t.apply("\ud83c\udde6\ud83c\udde8\ud83c\udde6"));
        String ascii = "#\u0031 plain ASCII";
        assertSame(ascii, t.apply(ascii));
        String untouched = "caf\u00e9 \u4f60\u597d";
        assertSame(untouched, t.apply(untouched));
    }

    @Test
    public void keysAreWholeStringsAndPairsAreNeverSplit() {
        String grin = "\ud83d\ude00";
        EmojiNames t = table(grin + grin, "two", "\ud83d", "lone high", "\ude00", "lone low");
        assertEquals(grin, t.apply(grin)); // a key longer than the text; the halves of a pair are not lone surrogates
        assertEquals(" two " + grin, t.apply(grin + grin + grin));
        assertEquals(" lone high x", t.apply("\ud83dx"));
        assertEquals("x lone low ", t.apply("x\ude00"));
        assertEquals(" lone high " + grin, t.apply("\ud83d" + grin));
        assertEquals(grin + " lone low ", t.apply(grin + "\ude00"));
    }

    @Test
    public void textsAreCutInCodePointsBeforeTheTable() throws Exception {
        WordPieceTokenizer tokenizer = Bundle.open(new DirectorySource(TestData.bundleWithEmojiTable(tmp)), true).tokenizer;
        int max = tokenizer.maxInputChars();
        String grin = "\ud83d\ude00";
        StringBuilder spaces = new StringBuilder();
        for (int i = 0; i < max - 1; i++) {
            spaces.append(' ');
        }
        // max code points (max + 1 UTF-16 units): nothing is cut, the emoji is mapped
        assertEquals(spaces + " grinning face ", tokenizer.preprocess(spaces + grin));
        assertTrue(!tokenizer.encode(spaces + grin).truncated);
        // one more code point: cut after the emoji, never inside it
        assertEquals(spaces + " grinning face ", tokenizer.preprocess(spaces + grin + grin));
        Encoding cut = tokenizer.encode(spaces + grin + "joy");
        assertTrue("a cut text is truncated", cut.truncated);
        assertEquals(tokenizer.encode("\ud83d\ude00").ids.length, cut.ids.length);
    }

    private static EmojiNames table(String... keysAndNames) {
        Map<String, String> names = new HashMap<String, String>();
        for (int i = 0; i < keysAndNames.length; i += 2) {
            names.put(keysAndNames[i], keysAndNames[i + 1]);
        }
        JSONObject data = new JSONObject();
        try {
            data.put("format", EmojiNames.FORMAT).put("names", new JSONObject(names));
        } catch (org.json.JSONException e) {
            throw new IllegalStateException(e);
        }
        return EmojiNames.parse(data.toString(), "test table");
    }

    private static void expectRefused(File dir, boolean verify, String message) throws Exception {
        try {
            Bundle.open(new DirectorySource(dir), verify);
            fail("accepted; expected a refusal mentioning " + message);
        } catch (EmoliteException.BundleException e) {
            assertTrue(e.getMessage(), e.getMessage().contains(message));
        }
    }
}
