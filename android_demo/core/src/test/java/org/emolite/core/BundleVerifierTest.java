package org.emolite.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The real bundle passes verification; each kind of damage to a copy of it is refused with its own message. (The
 * manifest's own digest, manifest.sha256, is tested in ManifestIntegrityTest; edits here re-seal the manifest so
 * that the checks behind the digest are reached.)
 */
public class BundleVerifierTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void shippedBundleVerifies() throws Exception {
        Bundle bundle = Bundle.open(new DirectorySource(TestData.bundleDir()), true);
        assertEquals(bundle.manifest.files().size(), bundle.manifest.files().size());
        assertTrue(bundle.labelSetNames().contains(bundle.manifest.defaultLabelSet()));
        LabelSet set = bundle.labelSet(bundle.manifest.defaultLabelSet());
        assertEquals(bundle.manifest.dim(), set.embeddings[0].length);
        double norm = Scorer.dot(set.embeddings[0], set.embeddings[0]);
        assertEquals("label rows are L2-normalised", 1.0, norm, 1e-4);
    }

    @Test
    public void flippedByteFailsSha256() throws Exception {
        File dir = copyOfBundle();
        Path file = dir.toPath().resolve(firstLabelFile());
        byte[] raw = Files.readAllBytes(file);
        raw[raw.length / 2] ^= 1;
        Files.write(file, raw);
        expectRefusal(dir, "sha256");
    }

    @Test
    public void truncatedFileFailsSize() throws Exception {
        File dir = copyOfBundle();
        Path vocab = dir.toPath().resolve("vocab.txt");
        byte[] raw = Files.readAllBytes(vocab);
        Files.write(vocab, java.util.Arrays.copyOf(raw, raw.length - 10));
        expectRefusal(dir, "bytes");
    }

    @Test
    public void missingFileIsNamed() throws Exception {
        File dir = copyOfBundle();
        Files.delete(dir.toPath().resolve(firstLabelFile()));
        expectRefusal(dir, "missing '" + firstLabelFile() + "'");
    }

    @Test
    public void notABundleIsRefused() throws Exception {
        File dir = copyOfBundle();
        editManifest(dir, "\"emolite-bundle\"", "\"something-else\"");
        expectRefusal(dir, "not an emolite bundle");
    }

    @Test
    public void pathLeavingTheBundleIsRefused() throws Exception {
        File dir = copyOfBundle();
        editManifest(dir, "\"vocab.txt\": {", "\"../vocab.txt\": {");
        expectRefusal(dir, "outside the bundle");
    }

    private String firstLabelFile() throws Exception {
        return Json.str(TestData.bundle().manifest.labelSet(TestData.bundle().manifest.defaultLabelSet()), "file");
    }

    private File copyOfBundle() throws IOException {
        return TestData.copyOfBundle(tmp);
    }

    /** Edits manifest.json and writes a matching manifest.sha256, so that the checks after the digest are reached. */
    private static void editManifest(File dir, String from, String to) throws IOException {
        Path manifest = dir.toPath().resolve(Manifest.FILE);
        String text = new String(Files.readAllBytes(manifest), StandardCharsets.UTF_8);
        String compact = text.replaceAll("\":\\s+\\{", "\": {");
        if (!compact.contains(from)) {
            throw new AssertionError("manifest has no '" + from + "'");
        }
        Files.write(manifest, compact.replace(from, to).getBytes(StandardCharsets.UTF_8));
        TestData.reseal(dir);
    }

    private static void expectRefusal(File dir, String message) throws IOException {
        try {
            Bundle.open(new DirectorySource(dir), true);
            fail("a damaged bundle was accepted (expected: " + message + ")");
        } catch (EmoliteException.BundleException e) {
            assertTrue(e.getMessage(), e.getMessage().contains(message));
        }
    }
}
