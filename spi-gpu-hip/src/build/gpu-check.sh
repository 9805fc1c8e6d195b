#!/usr/bin/env bash
# mempipe's GPU device check, from the bundle (no JDK, no network needed):
#   gpu-check.sh OUTDIR [GpuCheck options, e.g. --ops dot,topK or --no-profile]
# Writes OUTDIR/results.json, OUTDIR/gpu-check.log, the fatal-fault child's log and the profile's table; ends within
# 4 minutes. On a machine without a usable NVIDIA GPU it runs the CPU-side checks on gsim and marks every GPU-only
# item "unavailable: <reason>". Exit code 0 when nothing failed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [[ $# -lt 1 || "$1" == -* ]]; then
    echo "usage: gpu-check.sh OUTDIR [--ops LIST] [--no-profile]" >&2
    exit 2
fi
out="$1"
shift
mkdir -p "$out"
exec timeout --kill-after=10 230 "$here/runtime/bin/java" --add-modules jdk.incubator.vector \
    --enable-native-access=ALL-UNNAMED -Xss4m -cp "$here/lib/*" dev.mempipe.gpu.check.GpuCheck "$out" \
    --gsim-fallback "$here/native/libmempipe-gsim.so" --budget-seconds 215 "$@"
