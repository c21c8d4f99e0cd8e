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

    static String readUtf8(BundleSource source, String relpath) throws IOException {
        return new String(readAll(source.open(relpath)), UTF8);
    }
}
