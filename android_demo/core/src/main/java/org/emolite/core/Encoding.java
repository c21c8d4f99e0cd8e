package org.emolite.core;

/** Token ids of one text, [CLS] ... [SEP], and whether word pieces were dropped to fit max_seq_length. */
public final class Encoding {
    public final int[] ids;
    public final boolean truncated;

    Encoding(int[] ids, boolean truncated) {
        this.ids = ids;
        this.truncated = truncated;
    }
}
