#!/usr/bin/env bash
# Build the signed debug APK without Gradle (no Android Gradle Plugin can be fetched offline):
#   aapt (resources, R.java) -> javac --source 8 against android.jar API 23 + the ONNX Runtime classes
#   -> Retarget (ONNX Runtime's Java 17 classes to Java 8: dx reads nothing newer) -> dx -> aapt add
#   classes.dex, ONNX Runtime's .so files -> zipalign -> apksigner (debug key) -> apksigner verify,
#   aapt dump badging. Tools come from tools/fetch_tools.sh (cache: $EMOLITE_ANDROID_CACHE).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${EMOLITE_ANDROID_CACHE:-$HOME/.cache/emolite-android}"
ABIS="${ABIS:-arm64-v8a armeabi-v7a x86_64}"
ANDROID_JAR="$CACHE/bullseye/root/usr/share/java/com.android.android-23.jar"
DX_JAR="$CACHE/bullseye/root/usr/share/java/com.android.dx.jar"
ORT="$CACHE/ort/aar"
ASM=/usr/share/java/asm.jar:/usr/share/java/asm-tree.jar
OUT="$here/build/apk"
APP="$here/app/src/main"
log() { echo "[build_apk] $*" >&2; }

for f in "$ANDROID_JAR" "$DX_JAR" "$ORT/classes.jar" "$APP/assets/bundle/manifest.json"; do
  [ -f "$f" ] || { echo "missing $f: run tools/fetch_tools.sh and tools/copy_bundle.sh (or make -C android_demo apk)" >&2; exit 2; }
done
rm -rf "$OUT" && mkdir -p "$OUT"/{gen,classes,ort,dex,tools}

log "aapt: resources and R.java"
aapt package -f -m -J "$OUT/gen" -M "$APP/AndroidManifest.xml" -S "$APP/res" -I "$ANDROID_JAR" \
  -A "$APP/assets" -0 onnx -0 f32 -F "$OUT/app.unaligned.apk"

log "retarget ONNX Runtime classes (Java 17 -> 8) for dx"
javac -nowarn -d "$OUT/tools" -cp "$ASM" "$here/tools/Retarget.java"
java -cp "$OUT/tools:$ASM" Retarget "$ORT/classes.jar" "$OUT/ort/onnxruntime-java8.jar"

log "javac: core + app (Java 8 language level, android.jar API 23 as boot class path)"
javac -nowarn -Xlint:-options -source 8 -target 8 -encoding UTF-8 -bootclasspath "$ANDROID_JAR" \
  -cp "$OUT/ort/onnxruntime-java8.jar" -d "$OUT/classes" \
  $(find "$here/core/src/main/java" "$APP/java" "$OUT/gen" -name '*.java')

log "dx: classes.dex (app, core, ONNX Runtime)"
java -jar "$DX_JAR" --dex --min-sdk-version=24 --output="$OUT/dex/classes.dex" "$OUT/classes" "$OUT/ort/onnxruntime-java8.jar"

log "package: classes.dex and native libraries ($ABIS)"
(cd "$OUT/dex" && aapt add -f "$OUT/app.unaligned.apk" classes.dex >/dev/null)
mkdir -p "$OUT/native"
for abi in $ABIS; do
  mkdir -p "$OUT/native/lib/$abi" && cp "$ORT/jni/$abi/"*.so "$OUT/native/lib/$abi/"
done
(cd "$OUT/native" && aapt add -f "$OUT/app.unaligned.apk" $(find lib -name '*.so' | sort) >/dev/null)

log "zipalign and sign with the debug key"
zipalign -f -p 4 "$OUT/app.unaligned.apk" "$OUT/app.aligned.apk"
KEYSTORE="$CACHE/debug.keystore"
[ -f "$KEYSTORE" ] || keytool -genkeypair -keystore "$KEYSTORE" -alias androiddebugkey -storepass android \
  -keypass android -keyalg RSA -keysize 2048 -validity 10000 -dname "CN=Android Debug,O=Android,C=US" >/dev/null 2>&1
apksigner sign --ks "$KEYSTORE" --ks-pass pass:android --key-pass pass:android --ks-key-alias androiddebugkey \
  --min-sdk-version 24 --out "$OUT/emolite-demo.apk" "$OUT/app.aligned.apk"

log "verify"
apksigner verify --verbose --min-sdk-version 24 "$OUT/emolite-demo.apk"
aapt dump badging "$OUT/emolite-demo.apk" | grep -E "^(package|sdkVersion|targetSdkVersion|application-label|launchable-activity|native-code)"
dexdump -f "$OUT/dex/classes.dex" | grep -E "^(class_defs_size|method_ids_size)" >&2 || true
ls -l "$OUT/emolite-demo.apk" | awk '{print "[build_apk] " $9 ": " $5 " bytes"}' >&2
