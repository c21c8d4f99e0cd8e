package org.emolite.core;

import java.io.BufferedInputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;

/** A bundle directory on disk (java.io only: it runs on Android API 24 as well). */
public final class DirectorySource implements BundleSource {
    private final File root;

    public DirectorySource(File root) {
        this.root = root;
    }

    @Override
    public InputStream open(String relpath) throws IOException {
        return new BufferedInputStream(new FileInputStream(new File(root, relpath)), 1 << 16);
    }

    @Override
    public String describe() {
        return root.getPath();
    }
}
