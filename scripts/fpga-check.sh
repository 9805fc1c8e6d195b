#!/usr/bin/env bash
# The documented card run of the Alveo U55C backend (docs/fpga.md, "On a card"). This project has no card and has
# never run this script against one: it is written from XRT 2.13's documented tools and checked here only for what
# it does without a card (it stops, naming what is missing).
#
#   scripts/fpga-check.sh XCLBIN [OUT_DIR]
#
# XCLBIN is the design v++ linked for xilinx_u55c_gen3x16_xdma_3_202210_1 with the generated connectivity file.
# Steps, each logged to OUT_DIR (default ./fpga-check):
#   1. the conformance kit against the card (the csim conformance test with -Dmempipe.xrt.card=true);
#   2. a profile: `mempipe profile --backend fpga-xrt` with XRT's trace on (xrt.ini), the fpga-xrt jar on the
#      class path;
#   3. power: `xbutil examine -r electrical` sampled every MEMPIPE_POWER_PERIOD seconds (default 0.5) during the
#      profile, integrated (trapezoids) into joules labelled *sampled* (board power readings, not a metered rail).
# Environment: XILINX_XRT (source /opt/xilinx/xrt/setup.sh), MEMPIPE_FPGA_DEVICE (the card's BDF; default: the
# first `xbutil examine` lists), MEMPIPE_CHANNELS (8, 16 or 32: the score kernel build in XCLBIN; default 8),
# MEMPIPE_PROFILE_ARGS (default: --workload quest,dsa,bm25 --context 4k,16k).
set -euo pipefail

usage() {
    echo "usage: scripts/fpga-check.sh XCLBIN [OUT_DIR]  (see the comment at the top, and docs/fpga.md)" >&2
    exit 2
}
fail() {
    echo "fpga-check: $*" >&2
    exit 2
}

[[ $# -ge 1 && $# -le 2 ]] || usage
xclbin=$(readlink -f -- "$1")
out=${2:-fpga-check}
root=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.." && pwd)
channels=${MEMPIPE_CHANNELS:-8}
period=${MEMPIPE_POWER_PERIOD:-0.5}
read -r -a profile_args <<<"${MEMPIPE_PROFILE_ARGS:---workload quest,dsa,bm25 --context 4k,16k}"

# ---- what a card run needs, each missing piece named ----
[[ -n ${XILINX_XRT:-} ]] || fail "XILINX_XRT is not set: source /opt/xilinx/xrt/setup.sh (XRT 2.13) first"
[[ -f $XILINX_XRT/lib/libxrt_core.so.2 ]] || fail "$XILINX_XRT/lib/libxrt_core.so.2 is missing: XRT is incomplete"
command -v xbutil >/dev/null || fail "xbutil is not on PATH (it comes with XRT: source /opt/xilinx/xrt/setup.sh)"
[[ -f $xclbin ]] || fail "no xclbin at $1: build it with v++ as docs/fpga.md says"
case $channels in 8 | 16 | 32) ;; *) fail "MEMPIPE_CHANNELS must be 8, 16 or 32 (the score kernel builds), got $channels" ;; esac
device=${MEMPIPE_FPGA_DEVICE:-$(xbutil examine 2>/dev/null | grep -m1 -oE '\[[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-9]\]' | tr -d '[]' || true)}
[[ -n $device ]] || fail "xbutil examine lists no card (set MEMPIPE_FPGA_DEVICE to its BDF if it does)"
mkdir -p "$out"
out=$(readlink -f -- "$out")
echo "fpga-check: card $device, xclbin $xclbin, score kernel over $channels HBM channels; logs in $out"

# ---- 1. the conformance kit on the card ----
echo "fpga-check: [1/3] conformance kit against the card ..."
(cd "$root" && ./mvnw -q -pl spi-fpga-xrt -am verify -Dtest='XrtCsimConformanceTest*' -Dsurefire.failIfNoSpecifiedTests=false \
    -Dmempipe.test.argLine="-Dmempipe.xrt.card=true -Dmempipe.xrt.xclbin=$xclbin -Dmempipe.xrt.channels=$channels") \
    >"$out/kit.log" 2>&1 || fail "the kit failed on the card: $out/kit.log"
echo "fpga-check: kit passed ($out/kit.log)"

# ---- 2. profile with XRT's trace, and 3. sampled power ----
echo "fpga-check: [2/3] building the mempipe jar and the fpga-xrt jar ..."
(cd "$root" && ./mvnw -q -pl cli,spi-fpga-xrt -am package -DskipTests) >"$out/build.log" 2>&1 \
    || fail "build failed: $out/build.log"
fpga_jar=$(ls "$root"/spi-fpga-xrt/target/mempipe-spi-fpga-xrt-*.jar | grep -v -e sources -e tests | head -1)
printf '[Debug]\nnative_xrt_trace=true\ndevice_trace=coarse\n' >"$out/xrt.ini"

sample_power() {
    # one "epoch_seconds watts" line per reading of the board's power sensor
    while :; do
        watts=$(xbutil examine -d "$device" -r electrical 2>/dev/null | awk -F: '/^[[:space:]]*Power[[:space:]]*:/ {gsub(/[^0-9.]/, "", $2); print $2; exit}')
        [[ -n $watts ]] && echo "$(date +%s.%N) $watts"
        sleep "$period"
    done
}

echo "fpga-check: [3/3] profile on the card, sampling power every ${period} s ..."
sample_power >"$out/power.txt" &
sampler=$!
trap 'kill "$sampler" 2>/dev/null || true' EXIT
java_bin=${JAVA_HOME:+$JAVA_HOME/bin/}java
(cd "$out" && "$java_bin" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
    -Dmempipe.xrt.xclbin="$xclbin" -Dmempipe.xrt.channels="$channels" \
    -cp "$root/cli/target/mempipe.jar:$fpga_jar" dev.mempipe.cli.Main profile --backend fpga-xrt \
    "${profile_args[@]}" --out "$out/report") >"$out/profile.txt" 2>"$out/profile.log" \
    || fail "the profile failed: $out/profile.log"
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
trap - EXIT

awk '{ t = $1; w = $2; if (n > 0) j += (t - pt) * (w + pw) / 2; else first = t; pt = t; pw = w; last = t; n++ }
     END { if (n < 2) { print "power: fewer than two samples: no energy (sampled)"; exit }
           printf "energy %.3f J over %.1f s, %d samples of xbutil electrical (sampled: board sensor, trapezoids)\n", j, last - first, n }' \
    "$out/power.txt" | tee "$out/energy.txt"
echo "fpga-check: done: $out/kit.log, $out/profile.txt, $out/report/report.html, XRT trace in $out, $out/energy.txt"
