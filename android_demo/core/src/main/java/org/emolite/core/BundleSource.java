package org.emolite.core;

import java.io.IOException;
import java.io.InputStream;

/** Where bundle files come from: a directory on the JVM, the APK's assets on Android. */
public interface BundleSource {
    /** Opens a bundle file by its manifest path ("labels/ekman.f32"); throws if it does not exist. */
    InputStream open(String relpath) throws IOException;

    /** A human-readable location for messages. */
    String describe();
}
