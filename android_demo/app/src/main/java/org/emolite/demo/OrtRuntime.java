package org.emolite.demo;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.util.HashMap;
import java.util.Map;
import org.emolite.core.EmbeddingRuntime;

/** ONNX Runtime (Android AAR) running the bundle's model.onnx: ids and mask in, sentence_embedding out. */
final class OrtRuntime implements EmbeddingRuntime, AutoCloseable {
    private final OrtEnvironment env;
    private final OrtSession session;
    private final String idsName;
    private final String maskName;

    OrtRuntime(byte[] model, String idsName, String maskName, int threads) throws OrtException {
        this.env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(threads);
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        this.session = env.createSession(model, options);
        this.idsName = idsName;
        this.maskName = maskName;
    }

    @Override
    public String format() {
        return "onnx";
    }

    @Override
    public float[] embed(long[] inputIds, long[] attentionMask) throws OrtException {
        OnnxTensor ids = OnnxTensor.createTensor(env, new long[][] {inputIds});
        OnnxTensor mask = OnnxTensor.createTensor(env, new long[][] {attentionMask});
        try {
            Map<String, OnnxTensor> inputs = new HashMap<String, OnnxTensor>();
            inputs.put(idsName, ids);
            inputs.put(maskName, mask);
            OrtSession.Result result = session.run(inputs);
            try {
                OnnxValue out = result.get(0); // the manifest's single output, sentence_embedding [1, D]
                return ((float[][]) out.getValue())[0];
            } finally {
                result.close();
            }
        } finally {
            ids.close();
            mask.close();
        }
    }

    @Override
    public void close() throws OrtException {
        session.close();
    }
}
