package org.emolite.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;

import java.util.Collection;
import org.json.JSONArray;
import org.json.JSONObject;
import org.junit.BeforeClass;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.Parameterized;

/** Token ids of every golden string equal the Python SDK's (one test per string). */
@RunWith(Parameterized.class)
public class TokenizerGoldenTest {
    private static WordPieceTokenizer tokenizer;
    private final JSONObject golden;

    public TokenizerGoldenTest(String name, JSONObject golden) {
        this.golden = golden;
    }

    @Parameterized.Parameters(name = "{0}")
    public static Collection<Object[]> cases() throws Exception {
        return TestData.goldenCases("tokens.json", "");
    }

    @BeforeClass
    public static void load() throws Exception {
        tokenizer = TestData.bundle().tokenizer;
    }

    @Test
    public void idsEqualPython() throws Exception {
        TestData.assertTokensEqualPython(golden, tokenizer);
        assertEquals("blank (the SDK refuses it)", golden.getBoolean("blank"), TextInput.isBlank(golden.getString("text")));
    }
}
