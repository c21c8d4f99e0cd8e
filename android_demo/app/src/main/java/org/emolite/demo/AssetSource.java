package org.emolite.demo;

import android.content.res.AssetManager;
import java.io.IOException;
import java.io.InputStream;
import org.emolite.core.BundleSource;

/** The bundle as copied into the APK's assets/bundle/ by tools/copy_bundle.sh. */
final class AssetSource implements BundleSource {
    private final AssetManager assets;
    private final String root;

    AssetSource(AssetManager assets, String root) {
        this.assets = assets;
        this.root = root;
    }

    @Override
    public InputStream open(String relpath) throws IOException {
        return assets.open(root + "/" + relpath, AssetManager.ACCESS_STREAMING);
    }

    @Override
    public String describe() {
        return "assets/" + root;
    }
}
