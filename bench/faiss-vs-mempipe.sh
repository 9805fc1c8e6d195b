#!/usr/bin/env bash
# mempipe's exact search against FAISS IndexFlatIP and NumPy + OpenBLAS on the same 100k x 384 data and threads.
# Usage: bench/faiss-vs-mempipe.sh [THREADS] [ROUNDS]   (defaults: every core, 3 rounds; run from the repository root)
# Needs the benchmark jar (./mvnw -q package -DskipTests -pl bench -am) and a JDK 25; for the Python side, Debian's
# python3-numpy, python3-faiss and libopenblas0-pthread, with OpenBLAS selected for libblas.so.3 / liblapack.so.3
# (update-alternatives; Debian's reference BLAS is about 30x slower). Without Python or FAISS the Java side still
# runs and prints its own figures.
set -euo pipefail
THREADS="${1:-$(nproc)}"
ROUNDS="${2:-3}"
OUT="bench/target/faiss"
JAR="bench/target/mempipe-benchmarks.jar"
JAVA="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
[ -x "$JAVA" ] || JAVA="$(command -v java)"
if [ ! -f "$JAR" ]; then
    echo "missing $JAR: build it with ./mvnw -q package -DskipTests -pl bench -am" >&2
    exit 2
fi
mkdir -p "$OUT"
echo "== mempipe (Java side, $THREADS threads) ==" >&2
"$JAVA" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx8g -Dmempipe.threads="$THREADS" \
    -cp "$JAR" dev.mempipe.bench.FaissComparison "$ROUNDS" "$OUT"
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON="$(command -v python3 || true)"
if [ -z "$PYTHON" ]; then
    echo "Python 3 is missing: only mempipe's figures above were measured (install python3-numpy python3-faiss)" >&2
    exit 0
fi
if ! "$PYTHON" -c 'import numpy' 2>/dev/null; then
    echo "NumPy is missing for $PYTHON: only mempipe's figures above were measured (apt-get install python3-numpy" \
         "python3-faiss libopenblas0-pthread)" >&2
    exit 0
fi
blas="$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || echo unknown)"
case "$blas" in
    *openblas*) ;;
    *) echo "warning: libblas.so.3 is $blas, not OpenBLAS: NumPy and FAISS will be far slower than they can be" \
            "(update-alternatives --config libblas.so.3-x86_64-linux-gnu)" >&2 ;;
esac
echo "== FAISS and NumPy (Python side, $THREADS threads) ==" >&2
"$PYTHON" bench/faiss_compare.py "$OUT" "$THREADS" "$ROUNDS"
