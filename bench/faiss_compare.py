#!/usr/bin/env python3
"""The Python side of bench/faiss-vs-mempipe.sh: FAISS IndexFlatIP and NumPy (+ OpenBLAS) on the data that
FaissComparison (the Java side) wrote, on the same number of threads, then the ratios against mempipe's figures.

Usage: faiss_compare.py DIR THREADS [ROUNDS]
DIR holds rows.npy, queries.npy and mempipe.json (written by FaissComparison). Prints one table of figures and one
of ratios; every figure is the median over ROUNDS rounds (after one warm-up round) of milliseconds per query.
"""
import json
import os
import sys
import time

if len(sys.argv) < 3:
    sys.exit(__doc__)
DIR = sys.argv[1]
THREADS = int(sys.argv[2])
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 3
# the BLAS thread count must be set before NumPy loads OpenBLAS
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(THREADS)

import numpy as np  # noqa: E402

try:
    import faiss  # noqa: E402
except ImportError as e:
    faiss = None
    print(f"FAISS is not installed ({e}): install python3-faiss; only NumPy is compared", file=sys.stderr)

K = 10
BATCHES = (1, 32, 256)
SINGLE_QUERIES = 40
BATCH_CALLS = 4


def blas_name():
    try:
        config = np.__config__.blas_opt_info  # NumPy 1.24 (Debian bookworm)
        libs = config.get("libraries", [])
    except AttributeError:
        libs = []
    # Debian's NumPy links libblas.so.3, which update-alternatives points at OpenBLAS or the reference BLAS
    try:
        target = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    except OSError:
        target = "unknown"
    return f"{libs} -> {target}"


def per_query(batch, call):
    """(wall ms, process CPU ms) per query: 40 single queries, or BATCH_CALLS batches (as the Java side)."""
    total = SINGLE_QUERIES if batch == 1 else max(BATCH_CALLS * batch, 128)
    cpu = time.process_time()
    start = time.perf_counter()
    answered = 0
    q0 = 0
    while answered < total:
        if q0 + batch > 1000:
            q0 = 0
        call(q0)
        answered += batch
        q0 += batch
    return ((time.perf_counter() - start) * 1000 / answered, (time.process_time() - cpu) * 1000 / answered)


def main():
    rows = np.load(os.path.join(DIR, "rows.npy"))
    queries = np.load(os.path.join(DIR, "queries.npy"))
    n, d = rows.shape
    rows_t = np.ascontiguousarray(rows.T)
    out = {b: np.empty((b, n), dtype=np.float32) for b in BATCHES}
    index = None
    if faiss is not None:
        faiss.omp_set_num_threads(THREADS)
        index = faiss.IndexFlatIP(d)
        index.add(rows)

    def numpy_search(q0, b):
        s = np.matmul(queries[q0:q0 + b], rows_t, out=out[b])
        part = np.argpartition(-s, K, axis=1)[:, :K]
        top = np.take_along_axis(s, part, axis=1)
        order = np.argsort(-top, axis=1, kind="stable")
        return np.take_along_axis(part, order, axis=1)

    times = {}
    for rnd in range(ROUNDS + 1):
        print(f"round {rnd} of {ROUNDS}" + (" (warm-up)" if rnd == 0 else ""), file=sys.stderr)
        r = {}
        for b in BATCHES[1:]:
            r[f"sgemm.b{b}"] = per_query(b, lambda q0, b=b: np.matmul(queries[q0:q0 + b], rows_t, out=out[b]))
        for b in BATCHES:
            r[f"numpy.b{b}"] = per_query(b, lambda q0, b=b: numpy_search(q0, b))
            if index is not None:
                r[f"faiss.b{b}"] = per_query(b, lambda q0, b=b: index.search(queries[q0:q0 + b], K))
        if rnd > 0:
            for name, (wall, cpu) in r.items():
                times.setdefault(name, []).append(wall)
                times.setdefault("cpu:" + name, []).append(cpu)
    med = {name: float(np.median(v)) for name, v in times.items()}
    # read after the timing, so that the two sides may also run at the same time (their CPU-time ratios hold)
    try:
        with open(os.path.join(DIR, "mempipe.json")) as f:
            mempipe = json.load(f)
    except OSError as e:
        print(f"no mempipe figures ({e}): FAISS and NumPy only", file=sys.stderr)
        mempipe = {"threads": "?", "backend": "not run", "msPerQuery": {}}
    mp = mempipe["msPerQuery"]

    print(f"\nmachine: {os.cpu_count()} cores; threads: mempipe {mempipe['threads']}, FAISS/NumPy {THREADS}; "
          f"{n} x {d} F32 rows, k = {K}; medians of {ROUNDS} rounds (measured)")
    print(f"mempipe backend: {mempipe['backend']}; NumPy {np.__version__}, BLAS {blas_name()}; "
          f"FAISS {faiss.__version__ if faiss else 'missing'}")
    print("\nfigure (cpu: = process CPU time)        ms/query   queries/s")
    for name in sorted(med):
        print(f"{name:<38} {med[name]:9.4f} {1000 / med[name]:11.1f}")
    for name in sorted(mp):
        print(f"mempipe {name:<30} {mp[name]:9.4f} {1000 / mp[name]:11.1f}")

    def gflops(ms_per_query):
        return 2.0 * n * d / (ms_per_query / 1000) / 1e9

    for clock in ("", "cpu:"):
        label = "process CPU time" if clock else "wall-clock time"
        print(f"\nratios by {label} (measured, this run; > 1 means mempipe is faster)            value   target")
        key = f"{clock}scoring.F32.b256"
        if key in mp:
            print(f"scoring FLOP/s, mempipe dotTopK k=1 / sgemm, batch 256: {gflops(mp[key]):6.1f} / "
                  f"{gflops(med[f'{clock}sgemm.b256']):6.1f} GFLOP/s           {med[f'{clock}sgemm.b256'] / mp[key]:6.2f}   >= 0.7")
        for b in BATCHES:
            for t in ("F32", "BF16", "I8"):
                key = f"{clock}dotTopK.{t}.b{b}"
                if index is not None and key in mp:
                    target = ">= 1.5" if b >= 256 and t == "F32" else ""
                    print(f"whole search, FAISS / mempipe {t:<4} dotTopK, batch {b:<4}                  "
                          f"{med[f'{clock}faiss.b{b}'] / mp[key]:8.2f}   {target}")
            key = f"{clock}dotTopK.F32.b{b}"
            if key in mp:
                print(f"whole search, NumPy / mempipe F32 dotTopK, batch {b:<4}                   "
                      f"{med[f'{clock}numpy.b{b}'] / mp[key]:8.2f}")
            store = f"{clock}store.F32.b{b}"
            if index is not None and store in mp:
                print(f"whole search, FAISS / mempipe F32 store (LangChain4j), batch {b:<4}       "
                      f"{med[f'{clock}faiss.b{b}'] / mp[store]:8.2f}")
        for t in ("F32", "BF16", "I8"):
            raw, store = mp.get(f"{clock}rawDotTopK.{t}.b1"), mp.get(f"{clock}store.{t}.b1")
            if raw and store:
                print(f"per-query overhead: raw dot + topK / store search, {t:<4}                    "
                      f"{raw / store:8.2f}   >= 0.97")
            raw, store = mp.get(f"{clock}dotTopK.{t}.b256"), mp.get(f"{clock}store.{t}.b256")
            if raw and store:
                print(f"per-query overhead: raw dotTopK / store searchAll, batch 256, {t:<4}        "
                      f"{raw / store:8.2f}   >= 0.95")


main()
