package org.emolite.core;

import static org.junit.Assert.assertEquals;

import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import org.json.JSONObject;
import org.junit.Test;

/** Normaliser output and pre-tokeniser class of all 1,112,064 code points equal the Python tokenizer's. */
public class CodepointGoldenTest {
    @Test
    public void everyCodePointMatchesPython() throws Exception {
        JSONObject golden = TestData.golden("codepoints.json");
        JSONObject blocks = golden.getJSONObject("blocks");
        int blockSize = golden.getInt("block_size");
        BertNormalizer normalizer = normalizerOfBundle();
        List<String> bad = new ArrayList<String>();
        for (int block = 0; block * blockSize < 0x110000; block++) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (int cp = block * blockSize; cp < (block + 1) * blockSize; cp++) {
                if (cp >= 0xD800 && cp <= 0xDFFF) {
                    continue;
                }
                sha.update(line(normalizer, cp).getBytes(Streams.UTF8));
            }
            String want = blocks.getString(Integer.toHexString(block));
            if (!BundleVerifier.hex(sha.digest()).substring(0, 16).equals(want)) {
                bad.add(Integer.toHexString(block * blockSize) + "-" + Integer.toHexString((block + 1) * blockSize - 1));
            }
        }
        assertEquals("code point blocks that differ from the Python tokenizer", new ArrayList<String>(), bad);
    }

    static BertNormalizer normalizerOfBundle() throws Exception {
        JSONObject tok = TestData.bundle().manifest.tokenizer();
        return new BertNormalizer(tok.getBoolean("clean_text"), tok.getBoolean("handle_chinese_chars"),
                tok.getBoolean("strip_accents"), tok.getBoolean("lowercase"));
    }

    /** hex(cp) ':' normalised code points as hex joined by '.' ':' W|P|- (the generator's line format). */
    static String line(BertNormalizer normalizer, int cp) {
        String out = normalizer.normalize(new String(Character.toChars(cp)));
        StringBuilder hex = new StringBuilder();
        for (int i = 0; i < out.length(); ) {
            int c = out.codePointAt(i);
            hex.append(hex.length() == 0 ? "" : ".").append(Integer.toHexString(c));
            i += Character.charCount(c);
        }
        String cls = UnicodeTables.isWhitespace(cp) ? "W" : UnicodeTables.isPunctuation(cp) ? "P" : "-";
        return Integer.toHexString(cp) + ":" + hex + ":" + cls + "\n";
    }
}
