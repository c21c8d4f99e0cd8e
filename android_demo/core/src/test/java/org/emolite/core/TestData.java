package org.emolite.core;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.json.JSONArray;
import org.json.JSONException;
import org.json.JSONObject;
import org.junit.rules.TemporaryFolder;

/** The real shipped bundle and the golden files the Python SDK generated (tools/make_golden.py). */
final class TestData {
    private TestData() {}

    /** -Demolite.bundle, else the SDK's shipped default bundle beside android_demo/. */
    static File bundleDir() {
        String given = System.getProperty("emolite.bundle");
        File dir = given != null ? new File(given) : new File("../sdk/bundles/default");
        if (!new File(dir, Manifest.FILE).isFile()) {
            throw new IllegalStateException("no bundle at " + dir.getAbsolutePath() + "; pass -Demolite.bundle=DIR");
        }
        return dir;
    }

    static Bundle bundle() throws IOException {
        return Bundle.open(new DirectorySource(bundleDir()), false);
    }

    /** The "cases" of a golden file as JUnit parameters: a readable name (prefix, index, the text cut at 60) and the case. */
    static List<Object[]> goldenCases(String file, String prefix) throws IOException, JSONException {
        JSONArray cases = golden(file).getJSONArray("cases");
        List<Object[]> out = new ArrayList<Object[]>();
        for (int i = 0; i < cases.length(); i++) {
            JSONObject c = cases.getJSONObject(i);
            String quoted = JSONObject.quote(c.getString("text"));
            out.add(new Object[] {prefix + i + ": " + (quoted.length() > 60 ? quoted.substring(0, 60) + "..." : quoted), c});
        }
        return out;
    }

    /** A golden case's token ids and truncation flag equal what `tokenizer` gives for its text. */
    static void assertTokensEqualPython(JSONObject golden, WordPieceTokenizer tokenizer) throws JSONException {
        JSONArray ids = golden.getJSONArray("ids");
        int[] want = new int[ids.length()];
        for (int i = 0; i < want.length; i++) {
            want[i] = ids.getInt(i);
        }
        Encoding got = tokenizer.encode(golden.getString("text"));
        org.junit.Assert.assertArrayEquals(want, got.ids);
        org.junit.Assert.assertEquals("truncated", golden.getBoolean("truncated"), got.truncated);
    }

    static JSONObject golden(String name) throws IOException, JSONException {
        InputStream in = TestData.class.getResourceAsStream("/golden/" + name);
        if (in == null) {
            throw new IllegalStateException("golden/" + name + " is not on the test classpath (core/src/test/resources)");
        }
        JSONObject golden = new JSONObject(new String(Streams.readAll(in), Streams.UTF8));
        assertFresh(golden.getJSONObject("source"));
        return golden;
    }

    /**
     * Golden data made from other bundle files, or (text pipeline) with another {@code preprocessing}, is stale: say
     * how to regenerate instead of failing obscurely.
     */
    static void assertFresh(JSONObject source) throws IOException, JSONException {
        JSONObject files = source.getJSONObject("files");
        Manifest manifest = Manifest.read(new DirectorySource(bundleDir()));
        for (String file : Json.keys(files)) {
            Manifest.FileEntry entry = manifest.files().get(file);
            if (entry == null || !entry.sha256.equals(files.getString(file))) {
                throw new AssertionError("golden data was made from another " + file + "; regenerate: " + source.getString("regenerate"));
            }
        }
        if (source.has("preprocessing")) {
            JSONObject pre = source.optJSONObject("preprocessing");
            String want = pre == null || pre.isNull("emoji_names") ? null : pre.getString("emoji_names");
            String have = manifest.emojiNamesFile();
            if (want == null ? have != null : !want.equals(have)) {
                throw new AssertionError("golden data was made with preprocessing " + source.get("preprocessing")
                        + ", the bundle has emoji_names " + have + "; regenerate: " + source.getString("regenerate"));
            }
        }
    }

    static float[] floats(String base64) {
        byte[] raw = Base64.getDecoder().decode(base64);
        float[] out = new float[raw.length / 4];
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    /** A copy of the bundle in tmp whose large files (the models) are symlinks: only small files are ever damaged. */
    static File copyOfBundle(TemporaryFolder tmp) throws IOException {
        final File src = bundleDir();
        final File dst = tmp.newFolder();
        Files.walk(src.toPath()).forEach(p -> {
            Path target = dst.toPath().resolve(src.toPath().relativize(p).toString());
            try {
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else if (Files.size(p) > 5_000_000) {
                    Files.createSymbolicLink(target, p.toAbsolutePath());
                } else {
                    Files.copy(p, target);
                }
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        return dst;
    }

    static JSONObject readManifestJson(File dir) throws IOException, JSONException {
        return new JSONObject(new String(Files.readAllBytes(dir.toPath().resolve(Manifest.FILE)), Streams.UTF8));
    }

    /** Writes manifest.json only (manifest.sha256 is left as it was): what an edit by hand does. */
    static void writeManifestJson(File dir, JSONObject manifest) throws IOException, JSONException {
        Files.write(dir.toPath().resolve(Manifest.FILE), (manifest.toString(1) + "\n").getBytes(Streams.UTF8));
    }

    /** Rewrites manifest.sha256 for the current manifest.json, as a bundle writer does (sha256 hex + newline). */
    static void reseal(File dir) throws IOException {
        byte[] manifest = Files.readAllBytes(dir.toPath().resolve(Manifest.FILE));
        Files.write(dir.toPath().resolve(Manifest.DIGEST_FILE), (sha256(manifest) + "\n").getBytes(Streams.UTF8));
    }

    /** Writes manifest.json and a matching manifest.sha256: what the SDK's writer does. */
    static void seal(File dir, JSONObject manifest) throws IOException, JSONException {
        writeManifestJson(dir, manifest);
        reseal(dir);
    }

    /** Writes a file into the bundle and lists it in the manifest's files with its size and sha256 (not sealed). */
    static void addFile(File dir, JSONObject manifest, String relpath, byte[] content) throws IOException, JSONException {
        Path target = dir.toPath().resolve(relpath);
        Files.createDirectories(target.getParent());
        Files.deleteIfExists(target); // may be a symlink to the original bundle's file
        Files.write(target, content);
        manifest.getJSONObject("files").put(relpath, new JSONObject().put("bytes", content.length).put("sha256", sha256(content)));
    }

    /** -Demolite.emoji_table (the Makefile passes the SDK's sdk/emoji_names.json), else that file beside android_demo/. */
    static File sdkEmojiTable() {
        String given = System.getProperty("emolite.emoji_table");
        File file = given != null ? new File(given) : new File("../sdk/emoji_names.json");
        if (!file.isFile()) {
            throw new IllegalStateException("no emoji table at " + file.getAbsolutePath() + "; pass -Demolite.emoji_table=FILE");
        }
        return file;
    }

    /**
     * A bundle with the emoji table: the shipped one when it has it (after a re-export), else a re-sealed copy to
     * which the SDK's table is added as the export does (emoji.json, listed in files, preprocessing.emoji_names).
     */
    static File bundleWithEmojiTable(TemporaryFolder tmp) throws IOException, JSONException {
        if (Manifest.read(new DirectorySource(bundleDir())).emojiNamesFile() != null) {
            return bundleDir();
        }
        File dir = copyOfBundle(tmp);
        JSONObject manifest = readManifestJson(dir);
        addFile(dir, manifest, "emoji.json", Files.readAllBytes(sdkEmojiTable().toPath()));
        manifest.put("preprocessing", new JSONObject().put("emoji_names", "emoji.json"));
        seal(dir, manifest);
        return dir;
    }

    /** The emoji table file a bundle names (its own bytes, read here rather than by the code under test). */
    static File emojiTableOf(File bundle) throws IOException, JSONException {
        return new File(bundle, readManifestJson(bundle).getJSONObject("preprocessing").getString("emoji_names"));
    }

    /** Lowercase hex sha256, computed here rather than by the code under test. */
    static String sha256(byte[] bytes) {
        try {
            return String.format("%064x", new java.math.BigInteger(1, java.security.MessageDigest.getInstance("SHA-256").digest(bytes)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
