#!/usr/bin/env bash
# Builds the native parts of spi-gpu-hip into target/native (run by Maven in generate-resources):
#   gsim:   libmempipe-gsim.so, the kernel source + the CUDA driver subset for the CPU (needs g++ >= 12)
#   nvcc:   prebuilt sm_90 cubin and compute_90 PTX of the kernel source, shipped in the jar (needs nvcc);
#           ptxas' report is kept and any register spill fails the build
#   nvrtc:  the nvidia-cuda-nvrtc wheel found on disk, unpacked, so that tests can compile through NVRTC
# A missing tool is not an error: its part is skipped and target/native/<part>.skipped says why, which the
# tests that need it print when they skip.
set -euo pipefail
module_dir="$1"
out="$module_dir/target/native"
classes="$module_dir/target/classes/dev/mempipe/gpu/prebuilt"
src="$module_dir/src/main/cuda/mempipe_kernels.cu"
mkdir -p "$out" "$classes"
rm -f "$out"/*.skipped

newer() { # target is missing or older than any source
    local target="$1"; shift
    [[ ! -e "$target" ]] && return 0
    for s in "$@"; do [[ "$s" -nt "$target" ]] && return 0; done
    return 1
}

# ---- gsim ----
gxx="${CXX:-g++}"
if ! command -v "$gxx" >/dev/null 2>&1; then
    echo "no C++ compiler: '$gxx' is not on PATH (install g++ >= 12, or set CXX)" > "$out/gsim.skipped"
elif ! echo 'int main(){}' | "$gxx" -std=c++20 -x c++ -include barrier - -o /dev/null >/dev/null 2>&1; then
    echo "'$gxx' cannot compile C++20 with <barrier> (g++ >= 12 needed): $("$gxx" --version | head -1)" > "$out/gsim.skipped"
elif newer "$out/libmempipe-gsim.so" "$src" "$module_dir"/src/main/gsim/*; then
    echo "[native] gsim: $gxx -std=c++20 -> target/native/libmempipe-gsim.so"
    "$gxx" -std=c++20 -O2 -ffp-contract=off -fPIC -shared -pthread -Wall -Wextra -Wno-unused-parameter -Wno-unknown-pragmas \
        -o "$out/libmempipe-gsim.so.tmp" "$module_dir/src/main/gsim/gsim_runtime.cpp"
    mv "$out/libmempipe-gsim.so.tmp" "$out/libmempipe-gsim.so"
fi

# ---- nvcc: prebuilt code for the jar ----
nvcc_bin="$(command -v nvcc || true)"
if [[ -z "$nvcc_bin" && -n "${CUDA_HOME:-}" && -x "$CUDA_HOME/bin/nvcc" ]]; then nvcc_bin="$CUDA_HOME/bin/nvcc"; fi
if [[ -z "$nvcc_bin" ]]; then
    echo "no nvcc on PATH or in \$CUDA_HOME/bin: the jar ships no prebuilt cubin/PTX (NVRTC is then the only path)" > "$out/nvcc.skipped"
elif newer "$out/mempipe_kernels.sm_90.cubin" "$src"; then
    echo "[native] nvcc: sm_90 cubin + compute_90 PTX"
    "$nvcc_bin" -cubin -arch=sm_90 -Xptxas -v -o "$out/mempipe_kernels.sm_90.cubin" "$src" 2> "$out/ptxas-sm_90.txt"
    "$nvcc_bin" -ptx -arch=compute_90 -o "$out/mempipe_kernels.compute_90.ptx" "$src"
    if grep -E '[1-9][0-9]* bytes spill (stores|loads)' "$out/ptxas-sm_90.txt"; then
        echo "ptxas reports register spills for sm_90 (see $out/ptxas-sm_90.txt): fix the kernel" >&2
        rm -f "$out/mempipe_kernels.sm_90.cubin"
        exit 1
    fi
fi
# the device check's test-only out-of-bounds kernel, as PTX for GPU hosts without NVRTC
oob="$module_dir/src/test/cuda/mempipe_oob.cu"
if [[ -n "$nvcc_bin" ]] && newer "$out/mempipe_oob.compute_90.ptx" "$oob"; then
    "$nvcc_bin" -ptx -arch=compute_90 -o "$out/mempipe_oob.compute_90.ptx" "$oob"
fi
if [[ -e "$out/mempipe_oob.compute_90.ptx" ]]; then
    mkdir -p "$module_dir/target/test-classes/dev/mempipe/gpu/check"
    cp "$out/mempipe_oob.compute_90.ptx" "$module_dir/target/test-classes/dev/mempipe/gpu/check/"
fi
if [[ -e "$out/mempipe_kernels.sm_90.cubin" ]]; then
    cp "$out/mempipe_kernels.sm_90.cubin" "$out/mempipe_kernels.compute_90.ptx" "$classes/"
fi

# ---- nvrtc: unpack a wheel already on disk (no registry is asked) ----
if [[ ! -e "$out/nvrtc/lib/libnvrtc.so.13" ]]; then
    wheel="${MEMPIPE_NVRTC_WHEEL:-}"
    if [[ -z "$wheel" ]]; then
        wheel="$(ls /opt/pypi-more/files/nvidia_cuda_nvrtc-13*.whl 2>/dev/null | head -1 || true)"
    fi
    if [[ -z "$wheel" || ! -f "$wheel" ]]; then
        echo "no nvidia-cuda-nvrtc 13 wheel on disk (looked at \$MEMPIPE_NVRTC_WHEEL and /opt/pypi-more/files); NVRTC tests need -Dmempipe.nvrtc.library=/path/libnvrtc.so.13 or CUDA_HOME" > "$out/nvrtc.skipped"
    elif ! command -v unzip >/dev/null 2>&1 && ! command -v python3 >/dev/null 2>&1; then
        echo "found $wheel but neither unzip nor python3 to unpack it" > "$out/nvrtc.skipped"
    else
        echo "[native] nvrtc: unpacking $(basename "$wheel")"
        rm -rf "$out/nvrtc.tmp" && mkdir -p "$out/nvrtc.tmp"
        if command -v unzip >/dev/null 2>&1; then
            unzip -q -o "$wheel" '*/lib/libnvrtc.so.13' '*/lib/libnvrtc-builtins.so.13*' -d "$out/nvrtc.tmp"
        else
            python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); [z.extract(n, sys.argv[2]) for n in z.namelist() if "/lib/libnvrtc.so.13" in n or "/lib/libnvrtc-builtins.so.13" in n]' "$wheel" "$out/nvrtc.tmp"
        fi
        lib="$(dirname "$(find "$out/nvrtc.tmp" -name 'libnvrtc.so.13*' | head -1)")"
        rm -rf "$out/nvrtc" && mkdir -p "$out/nvrtc" && mv "$lib" "$out/nvrtc/lib" && rm -rf "$out/nvrtc.tmp"
    fi
fi
