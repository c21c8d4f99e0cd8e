package org.emolite.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
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
        JSONArray cases = TestData.golden("tokens.json").getJSONArray("cases");
        List<Object[]> out = new ArrayList<Object[]>();
        for (int i = 0; i < cases.length(); i++) {
            JSONObject c = cases.getJSONObject(i);
            String quoted = JSONObject.quote(c.getString("text"));
            out.add(new Object[] {i + ": " + (quoted.length() > 60 ? quoted.substring(0, 60) + "..." : quoted), c});
        }
        return out;
    }

    @BeforeClass
    public static void load() throws Exception {
        tokenizer = TestData.bundle().tokenizer;
    }

    @Test
    public void idsEqualPython() throws Exception {
        JSONArray ids = golden.getJSONArray("ids");
        int[] want = new int[ids.length()];
        for (int i = 0; i < want.length; i++) {
            want[i] = ids.getInt(i);
        }
        Encoding got = tokenizer.encode(golden.getString("text"));
        assertArrayEquals(want, got.ids);
        assertEquals("truncated", golden.getBoolean("truncated"), got.truncated);
        assertEquals("blank (the SDK refuses it)", golden.getBoolean("blank"), TextInput.isBlank(golden.getString("text")));
    }
}
