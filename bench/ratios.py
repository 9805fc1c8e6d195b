#!/usr/bin/env python3
"""Turns a JMH JSON result file into the ratio tables of docs/PERFORMANCE.md.

Usage: python3 bench/ratios.py bench.json

Every ratio divides two figures from the same JMH run. Not needed to build or test mempipe.
"""
import json
import sys


def load(path):
    scores = {}
    for r in json.load(open(path)):
        name = r["benchmark"].rsplit(".", 2)
        cls, method = name[-2], name[-1]
        params = r.get("params", {})
        key = (cls, method, tuple(sorted(params.items())))
        m = r["primaryMetric"]
        scores[key] = (m["score"], m.get("scoreError", float("nan")), m["scoreUnit"])
    return scores


def get(scores, cls, method, **params):
    for (c, m, p), v in scores.items():
        if c == cls and m == method and all(dict(p).get(k) == str(val) for k, val in params.items()):
            return v
    return None


def main():
    scores = load(sys.argv[1])
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

    print("| figure | ratio | target | met | measured | baseline |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")

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


if __name__ == "__main__":
    main()
