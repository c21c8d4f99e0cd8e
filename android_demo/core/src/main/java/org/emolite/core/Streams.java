package org.emolite.core;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.Charset;

/** Small stream helpers (java.nio.file is API 26 on Android, so none of it here). */
final class Streams {
    static final Charset UTF8 = Charset.forName("UTF-8");

    private Streams() {}

    static byte[] readAll(InputStream in) throws IOException {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream(1 << 16);
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        } finally {
            in.close();
        }
    }

    /** Up to limit bytes of a stream (fewer at its end); closes it. */
    static byte[] readAtMost(InputStream in, int limit) throws IOException {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream(Math.min(limit, 1 << 16));
            byte[] buf = new byte[Math.min(limit, 1 << 16)];
            int n;
            while (out.size() < limit && (n = in.read(buf, 0, Math.min(buf.length, limit - out.size()))) > 0) {
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        } finally {
            in.close();
        }
    }

    static String readUtf8(BundleSource source, String relpath) throws IOException {
        return new String(readAll(source.open(relpath)), UTF8);
    }
}
