#!/usr/bin/env bash
# Writes the device-run bundle (-Pgpu-bundle) into target/gpu-bundle: a jlink'd Java 25 runtime, the jars the
# device check needs (this module, its test jar with dev.mempipe.gpu.check.GpuCheck, the engine, the kit, the
# mempipe command without its embedding model), gsim for machines without a GPU, the prebuilt sm_90 cubin and
# compute_90 PTX, and gpu-check.sh. Fails when the folder exceeds 64 MiB.
#   bundle.sh MODULE_DIR TARGET_DIR CLASSPATH
set -euo pipefail
module_dir="$1"
target="$2"
classpath="$3"
out="$target/gpu-bundle"
limit=$((64 * 1024 * 1024))

jdk=""
for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/*25*; do
    if [[ -n "$candidate" && -x "$candidate/bin/jlink" ]] && "$candidate/bin/java" -version 2>&1 | grep -q 'version "25'; then
        jdk="$candidate"
        break
    fi
done
if [[ -z "$jdk" ]]; then
    echo "bundle.sh: no JDK 25 with jlink (looked at \$JAVA_HOME and /usr/lib/jvm/*25*)" >&2
    exit 1
fi

rm -rf "$out" "$target/gpu-bundle.tar.xz"
mkdir -p "$out/lib" "$out/native" "$out/prebuilt"
echo "[bundle] jlink (JDK $jdk)"
# --strip-native-debug-symbols: libjvm.so ships its symbols (about 5 MB of the 64 MiB); --strip-debug would
# conflict with it, so the Java half of it is asked for by name
"$jdk/bin/jlink" --add-modules java.base,java.logging,jdk.jfr,jdk.incubator.vector,java.management \
    --strip-java-debug-attributes --strip-native-debug-symbols exclude-debuginfo-files --no-header-files \
    --no-man-pages --compress zip-9 --output "$out/runtime" > "$target/jlink.log" 2>&1 \
    || { cat "$target/jlink.log" >&2; exit 1; }
if command -v strip >/dev/null 2>&1; then
    strip --strip-unneeded "$out/runtime/lib/server/libjvm.so" # jlink's option above left its symbol table
fi

IFS=':' read -r -a entries <<< "$classpath"
for entry in "${entries[@]}"; do
    if [[ -d "$entry" ]]; then
        case "$entry" in
            */test-classes) name="mempipe-spi-gpu-hip-check.jar" ;;
            */classes) name="mempipe-spi-gpu-hip.jar" ;;
            *) echo "bundle.sh: unexpected class folder $entry" >&2; exit 1 ;;
        esac
        "$jdk/bin/jar" --create --file "$out/lib/$name" -C "$entry" .
    elif [[ -f "$entry" ]]; then
        cp "$entry" "$out/lib/"
    fi
done
cp "$target/native/libmempipe-gsim.so" "$out/native/"
for f in "$target"/native/mempipe_kernels.*; do
    [[ -e "$f" ]] && cp "$f" "$out/prebuilt/"
done
cp "$module_dir/src/build/gpu-check.sh" "$out/gpu-check.sh"
chmod +x "$out/gpu-check.sh"

size=$(du -sb "$out" | cut -f1)
echo "[bundle] $out: $((size / 1024 / 1024)) MiB ($size bytes; limit 64 MiB), $(ls "$out/lib" | wc -l) jars"
if (( size > limit )); then
    echo "bundle.sh: the bundle is $size bytes, over the 64 MiB limit" >&2
    du -sh "$out"/* "$out"/lib/* | sort -h | tail -15 >&2
    exit 1
fi
tar -C "$target" -cf - gpu-bundle | xz -T2 -6 > "$target/gpu-bundle.tar.xz"
echo "[bundle] $target/gpu-bundle.tar.xz: $(( $(stat -c %s "$target/gpu-bundle.tar.xz") / 1024 / 1024 )) MiB"
