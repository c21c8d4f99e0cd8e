package org.emolite.core;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.Base64;
import org.json.JSONException;
import org.json.JSONObject;

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

    static JSONObject golden(String name) throws IOException, JSONException {
        InputStream in = TestData.class.getResourceAsStream("/golden/" + name);
        if (in == null) {
            throw new IllegalStateException("golden/" + name + " is not on the test classpath (core/src/test/resources)");
        }
        JSONObject golden = new JSONObject(new String(Streams.readAll(in), Streams.UTF8));
        assertFresh(golden.getJSONObject("source"));
        return golden;
    }

    /** Golden data made from other bundle files is stale: say how to regenerate instead of failing obscurely. */
    static void assertFresh(JSONObject source) throws IOException, JSONException {
        JSONObject files = source.getJSONObject("files");
        Manifest manifest = Manifest.parse(new String(Files.readAllBytes(new File(bundleDir(), Manifest.FILE).toPath()),
                Streams.UTF8), "manifest");
        for (String file : Json.keys(files)) {
            String want = manifest.file(file).sha256;
            if (!want.equals(files.getString(file))) {
                throw new AssertionError("golden data was made from another " + file + "; regenerate: " + source.getString("regenerate"));
            }
        }
    }

    static float[] floats(String base64) {
        byte[] raw = Base64.getDecoder().decode(base64);
        float[] out = new float[raw.length / 4];
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }
}
