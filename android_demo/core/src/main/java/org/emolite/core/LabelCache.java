package org.emolite.core;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Rows of custom label words already embedded on this device, so a word costs its template inferences once.
 * Persisted keyed by the model's sha256: rows from another model are never reused.
 */
public final class LabelCache {
    private static final int MAGIC = 0x454d4c43; // "EMLC"
    private static final int VERSION = 1;
    private final String modelKey;
    private final int dim;
    private final Map<String, float[]> rows = new LinkedHashMap<String, float[]>();

    public LabelCache(String modelKey, int dim) {
        this.modelKey = modelKey;
        this.dim = dim;
    }

    public synchronized float[] get(String word) {
        return rows.get(word);
    }

    public synchronized void put(String word, float[] row) {
        if (row.length != dim) {
            throw new IllegalArgumentException("row has " + row.length + " values, expected " + dim);
        }
        rows.put(word, row.clone());
    }

    public synchronized int size() {
        return rows.size();
    }

    public synchronized void writeTo(OutputStream stream) throws IOException {
        DataOutputStream out = new DataOutputStream(stream);
        out.writeInt(MAGIC);
        out.writeInt(VERSION);
        out.writeUTF(modelKey);
        out.writeInt(dim);
        out.writeInt(rows.size());
        for (Map.Entry<String, float[]> entry : rows.entrySet()) {
            out.writeUTF(entry.getKey());
            for (float v : entry.getValue()) {
                out.writeFloat(v);
            }
        }
        out.flush();
    }

    /** Loads a saved cache; an unreadable one or one from another model gives an empty cache (it is only a cache). */
    public static LabelCache readFrom(InputStream stream, String modelKey, int dim) {
        LabelCache cache = new LabelCache(modelKey, dim);
        try {
            DataInputStream in = new DataInputStream(stream);
            if (in.readInt() != MAGIC || in.readInt() != VERSION || !in.readUTF().equals(modelKey) || in.readInt() != dim) {
                return cache;
            }
            int n = in.readInt();
            LabelCache loaded = new LabelCache(modelKey, dim);
            for (int i = 0; i < n; i++) {
                String word = in.readUTF();
                float[] row = new float[dim];
                for (int j = 0; j < dim; j++) {
                    row[j] = in.readFloat();
                }
                loaded.rows.put(word, row);
            }
            return loaded;
        } catch (IOException e) {
            return cache;
        }
    }
}
