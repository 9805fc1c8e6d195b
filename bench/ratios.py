#!/usr/bin/env python3
"""Turns a JMH JSON result file into the ratio tables of docs/PERFORMANCE.md.

Usage: python3 bench/ratios.py bench.json [figures-dir]

Every ratio divides two figures from the same JMH run. The LangChain4j store benchmarks (issue 5) also write the
figures their setups compute (recall, tuned beams, build times) as JSON under bench/target/lc4j/ (or figures-dir);
their table is printed when the JMH file holds those benchmarks. Not needed to build or test mempipe.
"""
import glob
import json
import os
import sys


def load(path):
    scores = {}
    for r in json.load(open(path)):
        if r["benchmark"].endswith("ScanBenchmark.dotF32"):
            RUN["jvmArgs"] = r.get("jvmArgs", [])
        name = r["benchmark"].rsplit(".", 2)
        cls, method = name[-2], name[-1]
        params = r.get("params", {})
        key = (cls, method, tuple(sorted(params.items())))
        m = r["primaryMetric"]
        scores[key] = (m["score"], m.get("scoreError", float("nan")), m["scoreUnit"])
    return scores


RUN = {}


def vector_width(figures_dir):
    """The vector width of the ScanBenchmark figures: -XX:MaxVectorSize in the run's JVM arguments, else the width the
    benchmark's forks reported (bench/target/lc4j/ScanBenchmark-<bits>bit.json; ambiguous if several exist)."""
    for a in RUN.get("jvmArgs", []):
        if a.startswith("-XX:MaxVectorSize="):
            return f"{int(a.split('=')[1]) * 8}-bit vectors ({a})"
    found = sorted(glob.glob(os.path.join(figures_dir, "ScanBenchmark-*bit.json")))
    if len(found) == 1:
        with open(found[0]) as f:
            fig = json.load(f)
        return f"{fig['vectorBits']}-bit vectors (the JDK's preferred width; {fig['backend']})"
    return "the JDK's preferred width (see the '[figures ScanBenchmark-<bits>bit]' line of the JMH output)"


def keys_per_second(scores, method):
    """Keys scanned per second by one dot* call: the keys parameter over the time per call."""
    for (c, m, p), v in scores.items():
        if c == "ScanBenchmark" and m == method and v[2] == "ms/op":
            return int(dict(p).get("keys", 0)) / (v[0] / 1000.0)
    return None


def get(scores, cls, method, **params):
    for (c, m, p), v in scores.items():
        if c == cls and m == method and all(dict(p).get(k) == str(val) for k, val in params.items()):
            return v
    return None


def main():
    scores = load(sys.argv[1])
    figures_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                                    "target", "lc4j")
    rows = []

    def ratio(label, num, den, target, higher_is_better=True):
        if num is None or den is None:
            return
        value = den[0] / num[0]  # both are times: baseline time / measured time = speed ratio
        ok = value >= target if higher_is_better else value <= target
        rows.append((label, f"{value:.2f}", target_text(target, higher_is_better), "yes" if ok else "NO",
                     f"{num[0]:.3f} ± {num[1]:.3f} {num[2]}", f"{den[0]:.3f} ± {den[1]:.3f} {den[2]}"))

    def target_text(t, hib):
        return (">= " if hib else "<= ") + str(t)

    bw = get(scores, "ScanBenchmark", "bandwidthKeysF32")
    dot = get(scores, "ScanBenchmark", "dotF32")
    ratio("f32 dot (1 x 1M x 128) / read bandwidth", dot, bw, 0.85)
    ratio("BF16 keys/s / f32 keys/s", get(scores, "ScanBenchmark", "dotBF16"), dot, 1.7)
    ratio("I8 keys/s / f32 keys/s", get(scores, "ScanBenchmark", "dotI8"), dot, 3.0)
    ratio("questBound (64K pages) / read bandwidth", get(scores, "ScanBenchmark", "questBound"),
          get(scores, "ScanBenchmark", "bandwidthPages"), 0.85)
    topk = get(scores, "ScanBenchmark", "topK2048")
    if topk and dot:
        share = topk[0] / dot[0]
        rows.append(("topK k=2048 over 1M / f32 dot scan time", f"{share:.3f}", "<= 0.10",
                     "yes" if share <= 0.10 else "NO", f"{topk[0]:.3f} {topk[2]}", f"{dot[0]:.3f} {dot[2]}"))
    dense = get(scores, "AttentionBenchmark", "dense")
    ratio("sparse attention, 256 pages x 16 / dense 131072", get(scores, "AttentionBenchmark", "sparseQuestPages"),
          dense, 18)
    ratio("sparse attention, 4096 scattered / dense 131072", get(scores, "AttentionBenchmark", "sparseScattered"),
          dense, 8)

    if rows:
        print("| figure | ratio | target | met | measured | baseline |")
        print("|---|---|---|---|---|---|")
        for r in rows:
            print("| " + " | ".join(r) + " |")

    f32_rate = keys_per_second(scores, "dotF32")
    if f32_rate:
        print()
        print(f"Compact keys, {vector_width(figures_dir)}:")
        print("| scan | keys/s | / f32 keys/s | target |")
        print("|---|---|---|---|")
        for method, label, target in (("dotF32", "F32", "-"), ("dotBF16", "BF16", ">= 1.7"), ("dotI8", "I8", ">= 3.0")):
            rate = keys_per_second(scores, method)
            if rate:
                print(f"| {label} | {rate / 1e6:.1f} M | {rate / f32_rate:.2f} | {target} |")
        bw = keys_per_second(scores, "bandwidthKeysF32")
        if bw:
            print(f"| read bandwidth (f32 keys' bytes) | {bw / 1e6:.1f} M | {bw / f32_rate:.2f} | - |")

    ops = sorted({dict(p)["op"] for (c, m, p) in scores if c == "OpsVsScalarBenchmark"})
    if ops:
        print()
        print("| op | SIMD | scalar oracle | SIMD speed-up |")
        print("|---|---|---|---|")
        for op in ops:
            s = get(scores, "OpsVsScalarBenchmark", "run", op=op, impl="simd")
            o = get(scores, "OpsVsScalarBenchmark", "run", op=op, impl="scalar")
            if s and o:
                print(f"| {op} | {s[0]:.1f} {s[2]} | {o[0]:.1f} {o[2]} | {o[0] / s[0]:.1f}x |")

    if any(c in ("EmbeddingStoreBenchmark", "BatchedSearchBenchmark", "HnswBenchmark") for (c, m, p) in scores):
        lc4j(scores, load_figures(figures_dir))
    if any(c == "StoreOverheadBenchmark" for (c, m, p) in scores):
        store_overhead(scores, load_figures(figures_dir))


def load_figures(directory):
    figures = {}
    for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
        with open(path) as f:
            figures[os.path.basename(path)[:-5]] = json.load(f)
    return figures


def lc4j(scores, figures):
    """The LangChain4j embedding store table (issue 5): EmbeddingStoreBenchmark, BatchedSearchBenchmark,
    HnswBenchmark. All scores are times per operation; a speed ratio is baseline time / measured time."""
    rows = []

    def fmt(v):
        return f"{v[0]:.3f} ± {v[1]:.3f} {v[2]}"

    def speed(label, num, den, target, note=""):
        if num is None or den is None:
            return
        value = den[0] / num[0]
        met = "yes" if target is None or value >= target else "NO"
        rows.append((label, f"{value:.2f}", "-" if target is None else f">= {target}", "-" if target is None else met,
                     fmt(num), fmt(den) + note))

    def figure(label, value, target, measured, baseline):
        if value is None:
            return
        ok = "-" if target is None else ("yes" if value >= target else "NO")
        rows.append((label, f"{value:.4f}" if isinstance(value, float) else str(value),
                     "-" if target is None else f">= {target}", ok, measured, baseline))

    def fig(name, key):
        return figures.get(name, {}).get(key)

    es = "EmbeddingStoreBenchmark"
    stock = get(scores, es, "search", store="stock")
    bw = get(scores, es, "bandwidth")
    f32 = get(scores, es, "search", store="mempipeF32")
    bf16 = get(scores, es, "search", store="mempipeBF16")
    i8 = get(scores, es, "search", store="mempipeI8")
    bw4 = get(scores, es, "bandwidthFourStreams")
    memory = get(scores, es, "bandwidthFromMemory")
    memory_bytes = fig(es + "-memoryBandwidth", "bytes")
    if memory and memory_bytes and f32:
        # different sizes: compare read rates, bytes per second
        store_rate = 153.6e6 / f32[0]
        memory_rate = memory_bytes / memory[0]
        value = store_rate / memory_rate
        rows.append((f"exact F32 search read rate / memory read bandwidth ({memory_bytes / 2**30:.2f} GiB, "
                     "STREAM-sized: 4x L3)", f"{value:.2f}", ">= 0.85", "yes" if value >= 0.85 else "NO",
                     f"{fmt(f32)} for 153.6 MB = {store_rate / 1e6:.1f} GB/s",
                     f"{fmt(memory)} for {memory_bytes / 1e6:.0f} MB = {memory_rate / 1e6:.1f} GB/s"))
    speed("exact F32 search / read of the same 153.6 MB (cache-resident here)", f32, bw, 0.85)
    speed("exact F32 search / four-stream read of the same 153.6 MB", f32, bw4, 0.85)
    speed("exact F32 QPS / stock QPS", f32, stock, None)
    speed("exact BF16 QPS / stock QPS", bf16, stock, 18)
    speed("exact I8 QPS / stock QPS", i8, stock, 30)
    figure("exact I8 recall@10 vs F32 store", fig(es + "-mempipeI8", "recallAt10VsF32Store"), 0.98,
           "1000 queries", "F32 store's top-10")
    figure("exact BF16 recall@10 vs F32 store", fig(es + "-mempipeBF16", "recallAt10VsF32Store"), None,
           "1000 queries", "F32 store's top-10")
    figure("exact F32 recall@10 vs double brute force", fig(es + "-mempipeF32", "recallAt10VsExact"), None,
           "1000 queries", "exact top-10")
    figure("stock recall@10 vs double brute force", fig(es + "-stock", "recallAt10VsExact"), None,
           f"{fig(es + '-stock', 'recallQueries')} queries", "exact top-10")

    bs = "BatchedSearchBenchmark"
    all32 = get(scores, bs, "answerBatch", impl="mempipeSearchAll")
    stock32 = get(scores, bs, "answerBatch", impl="stockOneByOne")
    one32 = get(scores, bs, "answerBatch", impl="mempipeOneByOne")
    speed("searchAll(32) aggregate QPS / stock aggregate QPS", all32, stock32, 50)
    speed("searchAll(32) / F32 search one by one", all32, one32, None)
    figure("searchAll recall@10 vs search", fig(bs + "-mempipeSearchAll", "recallAt10VsSearch"), None,
           f"{fig(bs + '-mempipeSearchAll', 'queriesChecked')} queries", "search() one by one")

    hb = "HnswBenchmark"
    ours = get(scores, hb, "search", impl="mempipe")
    lucene = get(scores, hb, "search", impl="lucene")
    jvector = get(scores, hb, "search", impl="jvector")

    def beam(name):
        f = figures.get(hb + "-" + name, {})
        return f" (beam {f.get('searchBeam')}, recall {f.get('recallAt10', 0):.4f})" if f else ""

    if ours and lucene:
        rows.append(("HNSW QPS / Lucene HNSW direct QPS, recall@10 >= 0.95", f"{lucene[0] / ours[0]:.2f}", ">= 0.9",
                     "yes" if lucene[0] / ours[0] >= 0.9 else "NO", fmt(ours) + beam("mempipe"),
                     fmt(lucene) + beam("lucene")))
    if ours and jvector:
        rows.append(("HNSW QPS / jvector 4.0.2 QPS, recall@10 >= 0.95", f"{jvector[0] / ours[0]:.2f}", ">= 1.0",
                     "yes" if jvector[0] / ours[0] >= 1.0 else "NO", fmt(ours) + beam("mempipe"),
                     fmt(jvector) + beam("jvector")))
    for other in ("lucene", "jvector"):
        a = fig(hb + "-mempipe", "buildSeconds")
        b = fig(hb + "-" + other, "buildSeconds")
        if a and b:
            rows.append((f"HNSW build time / {other} build time (1 thread each)", f"{a / b:.2f}", "(report)", "-",
                         f"{a:.1f} s", f"{b:.1f} s"))
    ff = figures.get(hb + "-mempipeFiltered10", {})
    if ff:
        figure(f"filtered (10%) recall@10 at the unfiltered beam {fig(hb + '-mempipeFiltered10', 'searchBeam')}",
               ff.get("filteredRecallAtUnfilteredBeam"), 0.95, "1000 queries", "exact filtered top-10")
        figure("filtered (10%) recall@10 at the default beam 100", ff.get("filteredRecallAtDefaultBeam100"), 0.95,
               "1000 queries", "exact filtered top-10")
        figure(f"filtered (10%) recall@10 at beam {ff.get('filteredSearchBeam')} (tuned)",
               ff.get("filteredRecallAt10"), 0.95, "1000 queries", "exact filtered top-10")
        filtered = get(scores, hb, "search", impl="mempipeFiltered10")
        exact_filtered = get(scores, hb, "search", impl="exactF32Filtered10")
        speed(f"filtered HNSW (beam {ff.get('filteredSearchBeam')}) QPS / filtered exact F32 QPS", filtered,
              exact_filtered, None)
        ef = figures.get(hb + "-exactF32Filtered10", {})
        if "filterTestMillis" in ef:
            rows.append(("LangChain4j Filter.test over 100k rows (ms, best of 30)", f"{ef['filterTestMillis']:.2f}",
                         "-", "-", "per query, any index", "-"))

    if not rows:
        return
    print()
    print("LangChain4j embedding store (issue 5)")
    print()
    print("| figure | ratio | target | met | measured | baseline |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    qps = []
    for label, v, n in (("stock", stock, 1), ("mempipe F32", f32, 1), ("mempipe BF16", bf16, 1),
                        ("mempipe I8", i8, 1), ("stock, 32 one by one", stock32, 32),
                        ("mempipe F32 searchAll(32)", all32, 32), ("mempipe F32, 32 one by one", one32, 32),
                        ("mempipe HNSW", ours, 1), ("Lucene HNSW direct", lucene, 1), ("jvector", jvector, 1),
                        ("mempipe HNSW, 10% filter", get(scores, hb, "search", impl="mempipeFiltered10"), 1),
                        ("mempipe exact F32, 10% filter", get(scores, hb, "search", impl="exactF32Filtered10"), 1)):
        if v:
            per_second = {"ms/op": 1e3, "us/op": 1e6, "s/op": 1.0}.get(v[2])
            if per_second:
                qps.append((label, n * per_second / v[0]))
    if qps:
        print()
        print("| search | QPS (aggregate for batches) |")
        print("|---|---|")
        for label, q in qps:
            print(f"| {label} | {q:,.0f} |")
    if bw and f32:
        print()
        print(f"read bandwidth (ReadBandwidth): {153.6e6 / (bw[0] / 1e3) / 1e9:.1f} GB/s"
              + (f"; four streams per core: {153.6e6 / (bw4[0] / 1e3) / 1e9:.1f} GB/s" if bw4 else "")
              + f"; exact F32 search: {153.6e6 / (f32[0] / 1e3) / 1e9:.1f} GB/s")


def store_overhead(scores, figures):
    """The store's overhead over the raw ops (issue 16): StoreOverheadBenchmark. Speed ratio = raw time / store
    time, so 1.00 means the store adds nothing; targets 0.97 (one query) and 0.95 (searchAll)."""
    so = "StoreOverheadBenchmark"
    backend = figures.get(so + "-backend", {}).get("backend", "backend not recorded (bench/target/lc4j missing)")
    rows = []

    def fmt(v):
        return f"{v[0]:.3f} ± {v[1]:.3f} {v[2]}"

    def speed(label, store, raw, target):
        if store is None or raw is None:
            return
        value = raw[0] / store[0]
        rows.append((label, f"{value:.3f}", f">= {target}", "yes" if value >= target else "NO", fmt(store), fmt(raw)))

    for storage in ("F32", "BF16", "I8"):
        store = get(scores, so, "storeSearch", storage=storage)
        speed(f"{storage}: store.search / raw dotTopK (the op it runs)", store,
              get(scores, so, "rawDotTopK", storage=storage), 0.97)
        speed(f"{storage}: store.search / raw dot + topK", store, get(scores, so, "rawDotThenTopK", storage=storage),
              0.97)
    batches = sorted({int(dict(p)["batch"]) for (c, m, p) in scores if c == so and "batch" in dict(p)})
    for storage in ("F32", "BF16", "I8"):
        for b in batches:
            speed(f"{storage}: searchAll({b}) / raw batched dotTopK({b})",
                  get(scores, so, "storeSearchAll", storage=storage, batch=b),
                  get(scores, so, "rawBatchedDotTopK", storage=storage, batch=b), 0.95)
    if not rows:
        return
    print()
    print(f"Store overhead over the raw ops (issue 16); {backend}")
    print()
    print("| figure | ratio | target | met | store | raw ops |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
