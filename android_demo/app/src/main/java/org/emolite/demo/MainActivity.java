package org.emolite.demo;

import android.app.Activity;
import android.graphics.Typeface;
import android.os.Bundle;
import android.os.Handler;
import android.os.Looper;
import android.view.View;
import android.widget.AdapterView;
import android.widget.ArrayAdapter;
import android.widget.Button;
import android.widget.EditText;
import android.widget.LinearLayout;
import android.widget.ProgressBar;
import android.widget.Spinner;
import android.widget.TextView;
import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.emolite.core.Classifier;
import org.emolite.core.LabelCache;
import org.emolite.core.Prediction;

/**
 * Text box, label-set picker, custom labels, result bars and latency. All model work runs on one background
 * thread; the bundle is verified (sizes, sha256) and the runtime proven on the golden vectors before the
 * Classify button is enabled.
 */
public class MainActivity extends Activity {
    private static final String BUNDLE_ASSETS = "bundle";
    private final ExecutorService worker = Executors.newSingleThreadExecutor();
    private final Handler ui = new Handler(Looper.getMainLooper());
    private Classifier classifier;
    private OrtRuntime runtime;
    private TextView status;
    private TextView latency;
    private EditText text;
    private EditText customLabels;
    private Spinner labelSet;
    private Button classify;
    private LinearLayout results;

    @Override
    protected void onCreate(Bundle state) {
        super.onCreate(state);
        setContentView(R.layout.activity_main);
        status = (TextView) findViewById(R.id.status);
        latency = (TextView) findViewById(R.id.latency);
        text = (EditText) findViewById(R.id.text);
        customLabels = (EditText) findViewById(R.id.custom_labels);
        labelSet = (Spinner) findViewById(R.id.label_set);
        classify = (Button) findViewById(R.id.classify);
        results = (LinearLayout) findViewById(R.id.results);
        classify.setOnClickListener(new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                classifyNow();
            }
        });
        worker.execute(new Runnable() {
            @Override
            public void run() {
                load();
            }
        });
    }

    /** Bundle verification, session creation and the golden-vector check, off the UI thread. */
    private void load() {
        long start = System.nanoTime();
        try {
            org.emolite.core.Bundle bundle = org.emolite.core.Bundle.open(new AssetSource(getAssets(), BUNDLE_ASSETS), true);
            long verified = System.nanoTime();
            List<String> inputs = jsonStrings(bundle.manifest.onnx().getJSONArray("inputs"));
            runtime = new OrtRuntime(bundle.modelBytes(), inputs.get(0), inputs.get(1), 2);
            classifier = new Classifier(bundle, runtime, readCache(bundle));
            final String message = String.format(Locale.ROOT,
                    "%s: manifest and %d files verified (sha256) in %d ms; ONNX Runtime golden cosine %.5f; ready in %d ms",
                    bundle.manifest.name(), bundle.manifest.files().size(), (verified - start) / 1000000,
                    classifier.goldenCosine(), (System.nanoTime() - start) / 1000000);
            final List<String> sets = new ArrayList<String>(bundle.labelSetNames());
            ui.post(new Runnable() {
                @Override
                public void run() {
                    ready(message, sets);
                }
            });
        } catch (final Exception e) {
            showError("Cannot use this bundle: " + e.getMessage());
        }
    }

    private void ready(String message, final List<String> sets) {
        status.setText(message);
        final String custom = getString(R.string.custom_set);
        List<String> choices = new ArrayList<String>(sets);
        choices.add(custom);
        ArrayAdapter<String> adapter = new ArrayAdapter<String>(this, android.R.layout.simple_spinner_item, choices);
        adapter.setDropDownViewResource(android.R.layout.simple_spinner_dropdown_item);
        labelSet.setAdapter(adapter);
        labelSet.setSelection(Math.max(0, sets.indexOf(classifier.bundle.manifest.defaultLabelSet())));
        labelSet.setOnItemSelectedListener(new AdapterView.OnItemSelectedListener() {
            @Override
            public void onItemSelected(AdapterView<?> parent, View view, int position, long id) {
                customLabels.setVisibility(position == sets.size() ? View.VISIBLE : View.GONE);
            }

            @Override
            public void onNothingSelected(AdapterView<?> parent) {}
        });
        classify.setEnabled(true);
    }

    private void classifyNow() {
        final String input = text.getText().toString();
        final int choice = labelSet.getSelectedItemPosition();
        final List<String> sets = classifier.bundle.labelSetNames();
        final List<String> words = splitLabels(customLabels.getText().toString());
        classify.setEnabled(false);
        worker.execute(new Runnable() {
            @Override
            public void run() {
                try {
                    int cachedBefore = classifier.cache().size();
                    long start = System.nanoTime();
                    Prediction p = choice < sets.size()
                            ? classifier.predict(input, sets.get(choice), null)
                            : classifier.predictCustom(input, words, null);
                    long ms = (System.nanoTime() - start) / 1000000;
                    int embedded = classifier.cache().size() - cachedBefore;
                    if (embedded > 0) {
                        writeCache();
                    }
                    show(p, String.format(Locale.ROOT, "latency %d ms (tokenise + inference + scoring, one text)%s%s", ms,
                            embedded > 0 ? "; embedded " + embedded + " new custom label(s) on device and cached" : "",
                            p.truncated ? "; text truncated to " + classifier.bundle.manifest.maxSeqLength() + " tokens" : ""));
                } catch (Exception e) {
                    showError(e.getMessage());
                }
            }
        });
    }

    private void show(final Prediction p, final String timing) {
        ui.post(new Runnable() {
            @Override
            public void run() {
                latency.setText(timing);
                results.removeAllViews();
                for (int i = 0; i < p.labels.size(); i++) {
                    results.addView(bar(p.labels.get(i), p.scores[i], p.predicted.contains(p.labels.get(i))));
                }
                classify.setEnabled(true);
            }
        });
    }

    /** One result row: label, a bar of its probability, the number; predicted labels in bold. */
    private View bar(String label, float score, boolean predicted) {
        LinearLayout row = new LinearLayout(this);
        row.setOrientation(LinearLayout.HORIZONTAL);
        TextView name = new TextView(this);
        name.setText(label);
        name.setTypeface(null, predicted ? Typeface.BOLD : Typeface.NORMAL);
        row.addView(name, new LinearLayout.LayoutParams(0, LinearLayout.LayoutParams.WRAP_CONTENT, 3f));
        ProgressBar barView = new ProgressBar(this, null, android.R.attr.progressBarStyleHorizontal);
        barView.setMax(1000);
        barView.setProgress(Math.round(score * 1000));
        row.addView(barView, new LinearLayout.LayoutParams(0, LinearLayout.LayoutParams.WRAP_CONTENT, 5f));
        TextView value = new TextView(this);
        value.setText(String.format(Locale.ROOT, " %.3f", score));
        row.addView(value, new LinearLayout.LayoutParams(0, LinearLayout.LayoutParams.WRAP_CONTENT, 2f));
        return row;
    }

    private void showError(final String message) {
        ui.post(new Runnable() {
            @Override
            public void run() {
                status.setText(message);
                classify.setEnabled(classifier != null);
            }
        });
    }

    private File cacheFile(org.emolite.core.Bundle bundle) {
        return new File(getFilesDir(), "labels-" + bundle.modelKey().substring(0, 16) + ".cache");
    }

    private LabelCache readCache(org.emolite.core.Bundle bundle) {
        File file = cacheFile(bundle);
        try {
            FileInputStream in = new FileInputStream(file);
            try {
                return LabelCache.readFrom(in, bundle.modelKey(), bundle.manifest.dim());
            } finally {
                in.close();
            }
        } catch (java.io.IOException e) {
            return new LabelCache(bundle.modelKey(), bundle.manifest.dim());
        }
    }

    private void writeCache() throws java.io.IOException {
        FileOutputStream out = new FileOutputStream(cacheFile(classifier.bundle));
        try {
            classifier.cache().writeTo(out);
        } finally {
            out.close();
        }
    }

    static List<String> splitLabels(String text) {
        List<String> out = new ArrayList<String>();
        for (String part : text.split("[,;\\n]")) {
            if (!part.trim().isEmpty()) {
                out.add(part.trim());
            }
        }
        return out;
    }

    private static List<String> jsonStrings(org.json.JSONArray array) throws org.json.JSONException {
        List<String> out = new ArrayList<String>();
        for (int i = 0; i < array.length(); i++) {
            out.add(array.getString(i));
        }
        return out;
    }

    @Override
    protected void onDestroy() {
        worker.shutdownNow();
        if (runtime != null) {
            try {
                runtime.close();
            } catch (Exception ignored) {
                // closing at exit: nothing to do about a failure
            }
        }
        super.onDestroy();
    }
}
