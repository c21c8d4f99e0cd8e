package org.emolite.core;

/** The encoder runtime (ONNX Runtime on Android): one text's ids in, its L2-normalised embedding out. */
public interface EmbeddingRuntime {
    /** The manifest format whose golden vectors this runtime must reproduce ("onnx"). */
    String format();

    /** input_ids and attention_mask of one text (batch 1, no padding) -> the embedding (D). */
    float[] embed(long[] inputIds, long[] attentionMask) throws Exception;
}
