package org.emolite.core;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.json.JSONArray;
import org.json.JSONException;
import org.json.JSONObject;

/**
 * Typed access to org.json values that turns its checked JSONException into a BundleException naming the field.
 *
 * <p>org.json is used because it is part of the Android platform (no library in the APK) and Debian ships the
 * same Android implementation for the JVM (libandroid-json-java), which the JUnit tests run against.
 */
final class Json {
    private Json() {}

    static JSONObject parse(String text, String where) {
        try {
            return new JSONObject(text);
        } catch (JSONException e) {
            throw new EmoliteException.BundleException(where + " is not valid JSON (" + e.getMessage() + "); re-copy the bundle", e);
        }
    }

    static JSONObject obj(JSONObject o, String key) {
        try {
            return o.getJSONObject(key);
        } catch (JSONException e) {
            throw missing(key, "an object", e);
        }
    }

    static JSONArray arr(JSONObject o, String key) {
        try {
            return o.getJSONArray(key);
        } catch (JSONException e) {
            throw missing(key, "a list", e);
        }
    }

    static String str(JSONObject o, String key) {
        try {
            return o.getString(key);
        } catch (JSONException e) {
            throw missing(key, "a string", e);
        }
    }

    static double num(JSONObject o, String key) {
        try {
            return o.getDouble(key);
        } catch (JSONException e) {
            throw missing(key, "a number", e);
        }
    }

    static int integer(JSONObject o, String key) {
        try {
            return o.getInt(key);
        } catch (JSONException e) {
            throw missing(key, "an integer", e);
        }
    }

    static long int64(JSONObject o, String key) {
        try {
            return o.getLong(key);
        } catch (JSONException e) {
            throw missing(key, "an integer", e);
        }
    }

    static boolean bool(JSONObject o, String key) {
        try {
            return o.getBoolean(key);
        } catch (JSONException e) {
            throw missing(key, "true or false", e);
        }
    }

    static JSONObject obj(JSONArray a, int i) {
        try {
            return a.getJSONObject(i);
        } catch (JSONException e) {
            throw missing("[" + i + "]", "an object", e);
        }
    }

    static JSONArray arr(JSONArray a, int i) {
        try {
            return a.getJSONArray(i);
        } catch (JSONException e) {
            throw missing("[" + i + "]", "a list", e);
        }
    }

    static String str(JSONArray a, int i) {
        try {
            return a.getString(i);
        } catch (JSONException e) {
            throw missing("[" + i + "]", "a string", e);
        }
    }

    static double num(JSONArray a, int i) {
        try {
            return a.getDouble(i);
        } catch (JSONException e) {
            throw missing("[" + i + "]", "a number", e);
        }
    }

    static int integer(JSONArray a, int i) {
        try {
            return a.getInt(i);
        } catch (JSONException e) {
            throw missing("[" + i + "]", "an integer", e);
        }
    }

    static List<String> strings(JSONArray array) {
        List<String> out = new ArrayList<String>(array.length());
        for (int i = 0; i < array.length(); i++) {
            out.add(str(array, i));
        }
        return out;
    }

    static float[] floats(JSONArray array) {
        float[] out = new float[array.length()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) num(array, i);
        }
        return out;
    }

    /** Keys in document order (org.json's JSONObject keeps insertion order on Android and in Debian's build). */
    static List<String> keys(JSONObject object) {
        List<String> out = new ArrayList<String>();
        Iterator<String> it = object.keys();
        while (it.hasNext()) {
            out.add(it.next());
        }
        return out;
    }

    private static EmoliteException.BundleException missing(String key, String what, JSONException e) {
        return new EmoliteException.BundleException("field '" + key + "' is missing or not " + what + " (" + e.getMessage() + ")", e);
    }
}
