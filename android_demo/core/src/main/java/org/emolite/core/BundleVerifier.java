package org.emolite.core;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** Step 2 of the bundle contract: every listed file present, with its size and sha256, and inside the bundle. */
public final class BundleVerifier {
    private BundleVerifier() {}

    /** Checks every file the manifest lists; throws BundleException naming the first bad one. */
    public static void verifyFiles(Manifest manifest, BundleSource source) {
        for (Manifest.FileEntry entry : manifest.files().values()) {
            verifyFile(entry, source);
        }
    }

    static void verifyFile(Manifest.FileEntry entry, BundleSource source) {
        checkPath(entry.path);
        long size = 0;
        String digest;
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            InputStream in = source.open(entry.path);
            try {
                byte[] buf = new byte[1 << 16];
                int n;
                while ((n = in.read(buf)) > 0) {
                    sha.update(buf, 0, n);
                    size += n;
                }
            } finally {
                in.close();
            }
            digest = hex(sha.digest());
        } catch (IOException e) {
            throw new EmoliteException.BundleException("bundle " + source.describe() + " is missing '" + entry.path
                    + "' (" + e.getMessage() + "); re-copy the whole bundle", e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required on every Java platform", e);
        }
        if (size != entry.bytes) {
            throw new EmoliteException.BundleException("bundle file '" + entry.path + "' has " + size + " bytes, the manifest says "
                    + entry.bytes + ": the file is truncated or replaced; re-copy the bundle");
        }
        if (!digest.equalsIgnoreCase(entry.sha256)) {
            throw new EmoliteException.BundleException("bundle file '" + entry.path
                    + "' fails its sha256 check: the file is corrupt or was modified; re-copy the bundle");
        }
    }

    /** Refuses absolute paths, '..', '.', empty segments and backslashes: a manifest is untrusted input. */
    static void checkPath(String path) {
        boolean bad = path.isEmpty() || path.startsWith("/") || path.indexOf('\\') >= 0 || path.indexOf(':') >= 0;
        for (String part : path.split("/", -1)) {
            bad |= part.isEmpty() || part.equals("..") || part.equals(".");
        }
        if (bad) {
            throw new EmoliteException.BundleException("manifest path '" + path + "' points outside the bundle or is malformed");
        }
    }

    static String hex(byte[] bytes) {
        StringBuilder out = new StringBuilder(bytes.length * 2);
        for (byte b : bytes) {
            out.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
        }
        return out.toString();
    }
}
