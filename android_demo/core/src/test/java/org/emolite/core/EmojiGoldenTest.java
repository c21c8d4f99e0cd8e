package org.emolite.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;

import java.io.File;
import java.nio.file.Files;
import java.util.Collection;
import org.json.JSONArray;
import org.json.JSONObject;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.runner.RunWith;
import org.junit.runners.Parameterized;

/**
 * The emoji table (docs/bundle-format.md "Emoji names") on every golden text of golden/emoji.json, one test per
 * text: the mapped text equals the SDK's {@code EmojiNames.apply}, and the token ids and truncation flag through
 * the bundle's pipeline (cut, emoji, WordPiece) equal the SDK's TextEncoder built with the table. The bundle is the
 * shipped one when it carries the table, else a re-sealed copy with the SDK's table added as the export adds it.
 */
@RunWith(Parameterized.class)
public class EmojiGoldenTest {
    @ClassRule
    public static TemporaryFolder tmp = new TemporaryFolder();

    private static WordPieceTokenizer tokenizer;
    private static WordPieceTokenizer plain; // the same bundle's tokenizer without the table
    private final JSONObject golden;

    public EmojiGoldenTest(String name, JSONObject golden) {
        this.golden = golden;
    }

    @Parameterized.Parameters(name = "{0}")
    public static Collection<Object[]> cases() throws Exception {
        return TestData.goldenCases("emoji.json", "emoji ");
    }

    @BeforeClass
    public static void load() throws Exception {
        JSONObject golden = TestData.golden("emoji.json");
        File dir = TestData.bundleWithEmojiTable(tmp);
        File table = TestData.emojiTableOf(dir);
        JSONObject made = golden.getJSONObject("table");
        if (!made.getString("sha256").equals(TestData.sha256(Files.readAllBytes(table.toPath())))) {
            throw new AssertionError("golden/emoji.json was made from another emoji table than " + table + "; regenerate: "
                    + golden.getJSONObject("source").getString("regenerate"));
        }
        Bundle bundle = Bundle.open(new DirectorySource(dir), true);
        tokenizer = bundle.tokenizer;
        assertNotNull("the bundle's tokenizer has the emoji table", tokenizer.emojiNames());
        assertEquals(made.getInt("keys"), tokenizer.emojiNames().size());
        assertEquals(golden.getInt("max_input_chars"), tokenizer.maxInputChars());
        JSONObject tok = bundle.manifest.tokenizer();
        plain = TokenizerLoader.build(tok, TokenizerLoader.readVocab(Streams.readUtf8(bundle.source, tok.optString("vocab", "vocab.txt"))),
                new JSONObject(Streams.readUtf8(bundle.source, tok.optString("file", "tokenizer.json"))));
    }

    @Test
    public void mappedTextEqualsPython() throws Exception {
        assertEquals(golden.getString("mapped"), tokenizer.emojiNames().apply(golden.getString("text")));
    }

    @Test
    public void idsEqualPython() throws Exception {
        String text = golden.getString("text");
        // cut first, then the table: what the tokenizer proper sees
        assertEquals(golden.optString("preprocessed", golden.getString("mapped")), tokenizer.preprocess(text));
        TestData.assertTokensEqualPython(golden, tokenizer);
        String mapped = golden.getString("mapped");
        if (!golden.has("preprocessed") && mapped.codePointCount(0, mapped.length()) <= tokenizer.maxInputChars()) {
            // neither the text nor its mapping is cut: the pipeline is the plain tokenizer on the mapped text
            assertArrayEquals(tokenizer.encode(text).ids, plain.encode(mapped).ids);
        }
    }
}
