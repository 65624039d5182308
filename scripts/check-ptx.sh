#!/usr/bin/env bash
# Offline check of the tensor-core kernels' inline PTX, without a GPU: compiles each tensor-core program the way
# bertj builds it on an NVIDIA device (common.clh + tensor_core.clh + the kernel, TC_ASM=1, the same -D options)
# to PTX with clang (OpenCL C, nvptx64, libclc's builtins), retargets the PTX to sm_90 (the H200's) and assembles
# it with NVIDIA's ptxas: the asm's syntax, operand types and register constraints, and that every instruction
# exists on sm_90. Prints per kernel the registers, spills and shared memory ptxas reports and how many mma /
# ldmatrix / shfl instructions made it into the PTX.
#
# NVIDIA's OpenCL compiler is not clang: passing here is a check, not proof (the start-up probe, tc_probe.cl, is
# what decides on the device). Needs clang (15 or later: sm_86 is its newest target, retargeted to sm_90 here),
# libclc's nvptx64--nvidiacl.bc (Debian: libclc-15) and ptxas (CUDA); none of them is needed to build or test
# bertj, and scripts/setup.sh does not install them.
#
# Usage: scripts/check-ptx.sh [--keep DIR]      exit 0: every program assembles; 1: one does not; 2: tools missing
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
kernels="$root/src/main/resources/bertj/kernels"
keep=""
[ "${1:-}" = "--keep" ] && keep=${2:?--keep needs a directory}

clang=${CLANG:-$(command -v clang-15 || command -v clang-16 || command -v clang-17 || command -v clang || true)}
ptxas=${PTXAS:-$(command -v ptxas || ls /usr/local/cuda*/bin/ptxas 2>/dev/null | head -n1 || true)}
libclc=${LIBCLC:-$(ls /usr/lib/clc/nvptx64--nvidiacl.bc /usr/lib/llvm-*/lib/clc/nvptx64--nvidiacl.bc 2>/dev/null | head -n1 || true)}
missing=()
[ -n "$clang" ] || missing+=("clang (Debian: clang-15)")
[ -n "$libclc" ] || missing+=("libclc's nvptx64--nvidiacl.bc (Debian: libclc-15)")
[ -n "$ptxas" ] || missing+=("ptxas (CUDA toolkit)")
if [ ${#missing[@]} -gt 0 ]; then
    echo "check-ptx: missing ${missing[*]}" >&2
    exit 2
fi
work=${keep:-$(mktemp -d)}
mkdir -p "$work"
[ -z "$keep" ] && trap 'rm -rf "$work"' EXIT
echo "check-ptx: $("$clang" --version | head -n1); $("$ptxas" --version | tail -n1); libclc $libclc"

# The programs bertj builds for the model (4L-288D: H 288, d 24, K 288 and 1152) and the tiles TcLinearKernel knows.
programs=(
    "tc_probe.cl|"
    "tc_linear.cl|-D BM=128 -D BN=96 -D BK=32 -D WARPS_M=4 -D WARPS_N=2 -D EPILOGUE=0 -D ALIGNED=1"
    "tc_linear.cl|-D BM=128 -D BN=96 -D BK=32 -D WARPS_M=4 -D WARPS_N=2 -D EPILOGUE=2 -D ALIGNED=1"
    "tc_linear.cl|-D BM=64 -D BN=96 -D BK=32 -D WARPS_M=2 -D WARPS_N=2 -D EPILOGUE=1 -D ALIGNED=1"
    "tc_linear.cl|-D BM=32 -D BN=64 -D BK=32 -D WARPS_M=2 -D WARPS_N=2 -D EPILOGUE=0 -D ALIGNED=0"
    "tc_linear.cl|-D BM=32 -D BN=288 -D BK=16 -D WARPS_M=2 -D WARPS_N=4 -D EPILOGUE=3 -D ALIGNED=1"
    "tc_linear.cl|-D BM=16 -D BN=288 -D BK=16 -D WARPS_M=1 -D WARPS_N=4 -D EPILOGUE=3 -D ALIGNED=1"
    "tc_attention.cl|-D HEAD_DIM=24 -D QW=4 -D KT=64"
    "tc_attention.cl|-D HEAD_DIM=24 -D QW=1 -D KT=32"
    "tc_attention.cl|-D HEAD_DIM=32 -D QW=4 -D KT=64"
    "tc_attention.cl|-D HEAD_DIM=64 -D QW=2 -D KT=64"
)
failed=0
n=0
for p in "${programs[@]}"; do
    file=${p%%|*}
    opts="-D TC_ASM=1 -D TC_FAULT=0 ${p#*|}"
    n=$((n + 1))
    base="$work/$n-${file%.cl}"
    cat "$kernels/common.clh" "$kernels/tensor_core.clh" "$kernels/$file" > "$base.cl"
    # -fgnu-keywords: clang's OpenCL mode knows `asm` only as a GNU keyword; NVIDIA's compiler takes it as is.
    # shellcheck disable=SC2086
    if ! "$clang" -x cl -cl-std=CL1.2 -target nvptx64-unknown-nvidiacl -fgnu-keywords -O2 \
            -Xclang -target-cpu -Xclang sm_86 -Xclang -finclude-default-header \
            -Xclang -mlink-builtin-bitcode -Xclang "$libclc" $opts -S "$base.cl" -o "$base.ptx" 2> "$base.clang.log"; then
        echo "FAIL  $file $opts: clang: $(grep -m1 error "$base.clang.log")"
        failed=1
        continue
    fi
    sed -i -e 's/^\.target sm_86.*/.target sm_90/' -e 's/^\.version .*/.version 7.8/' "$base.ptx"
    if ! "$ptxas" -arch=sm_90 -v "$base.ptx" -o "$base.cubin" > "$base.ptxas.log" 2>&1; then
        echo "FAIL  $file $opts: ptxas: $(grep -m1 -iE 'error|fatal' "$base.ptxas.log")"
        failed=1
        continue
    fi
    regs=$(grep -m1 -o 'Used [0-9]* registers' "$base.ptxas.log" | grep -o '[0-9]*')
    spill=$(grep -m1 -oE '[0-9]+ bytes spill stores' "$base.ptxas.log" | grep -o '^[0-9]*')
    smem=$(grep -m1 -oE '[0-9]+ bytes smem' "$base.ptxas.log" | grep -o '^[0-9]*')
    count() { grep -c "$1" "$base.ptx"; }
    printf 'ok    %-16s %-78s regs %3s  spills %4s B  smem %6s B  mma %3d  ldmatrix %3d  shfl %2d\n' "$file" "${p#*|}" \
        "${regs:-?}" "${spill:-0}" "${smem:-0}" "$(count 'mma.sync.aligned')" "$(count 'ldmatrix.sync.aligned')" "$(count 'shfl.sync.bfly')"
    if [ "$(count 'mma.sync.aligned')" -eq 0 ]; then
        echo "FAIL  $file: no mma.sync in the PTX (TC_ASM not in effect?)"
        failed=1
    fi
done
[ -n "$keep" ] && echo "check-ptx: PTX, cubins and logs kept in $work"
if [ $failed -ne 0 ]; then
    echo "check-ptx: FAILED" >&2
    exit 1
fi
echo "check-ptx: all $n programs assemble for sm_90"
