#!/bin/sh
# Builds the hnswlib side of HnswComparisonHarness into bench/target/hnswlib_bench.
# Needs g++ and Debian's libhnswlib-dev (headers in /usr/include/hnswlib): apt-get install libhnswlib-dev
set -e
here=$(dirname "$0")
if [ ! -f /usr/include/hnswlib/hnswlib.h ]; then
    echo "hnswlib headers not found (/usr/include/hnswlib/hnswlib.h): apt-get install libhnswlib-dev" >&2
    exit 1
fi
mkdir -p "$here/../target"
g++ -O3 -march=native -std=c++17 -pthread -o "$here/../target/hnswlib_bench" "$here/hnswlib_bench.cpp"
echo "built $here/../target/hnswlib_bench"
