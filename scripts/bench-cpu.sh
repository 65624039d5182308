#!/usr/bin/env bash
# The CPU benchmark of docs/performance.md (not part of the tests): one random NVIDIA-format 4L-288D checkpoint,
# the same weights exported to ONNX, then bertj's cpu backend, ONNX Runtime (Java API) and PyTorch timed in one
# interleaved run at (batch, seq) = (1,128) (1,384) (8,384) (32,128), with seq/s and the ratio to ONNX Runtime, and
# bertj's GFLOP/s as a fraction of the FMA peak measured in every round (12 independent FMA chains per thread).
#
#   scripts/bench-cpu.sh [--out DIR] [--threads T] [--rounds R] [--seconds S] [--shapes 1x128,...] [--seed N]
#                        [--no-torch] [--sweep] [--jmh] [--plot] [--cpu-time]
#
#   --sweep   also time bertj and ONNX Runtime over sequence lengths (batch 1) and batch sizes (seq 128)
#   --plot    draw the sweep as DIR/cost.png (needs python3-matplotlib)
#   --jmh     also run the JMH microbenchmarks (matmul, attention, LayerNorm; GFLOP/s and % of FMA peak)
#   --cpu-time  also time each op by its thread's CPU time on one thread (CpuTimeBench; for busy machines)
# Everything lands in DIR (default bench-out/, ignored by git). Machines here are shared: compare the ratios
# measured in the same run, not absolute numbers across runs.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

out=bench-out threads=2 rounds=5 seconds=1 shapes=1x128,1x384,8x384,32x128 seed=1234
torch=1 sweep=0 jmh=0 plot=0 cputime=0
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        --shapes) shapes=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        --no-torch) torch=0; shift ;;
        --sweep) sweep=1; shift ;;
        --jmh) jmh=1; shift ;;
        --plot) plot=1; shift ;;
        --cpu-time) cputime=1; shift ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "bench-cpu.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

. scripts/bench-lib.sh
mkdir -p "$out"
bench_machine
bench_build
bench_model "$seed"

engines=bertj,ort,ort-fused
[ "$torch" = 1 ] && engines=$engines,torch
echo "== interleaved comparison: $engines, $threads threads, shapes $shapes"
"${java[@]}" bertj.bench.Compare --model "$out/bench.pt" --onnx "$out/bench.onnx" --onnx-fused "$out/bench-fused.onnx" \
    --engines "$engines" --threads "$threads" --rounds "$rounds" --seconds "$seconds" --shapes "$shapes" \
    --python "$python" --project "$here" --json "$out/compare.json" 2>&1 | grep --line-buffered -v 'WARNING: Using incubator' | tee "$out/compare.txt"

if [ "$sweep" = 1 ]; then
    echo "== sweep: cost against sequence length (batch 1) and batch size (seq 128), bertj and ONNX Runtime"
    sweep_shapes=1x16,1x32,1x64,1x128,1x256,1x384,1x512,2x128,4x128,8x128,16x128,32x128
    "${java[@]}" bertj.bench.Compare --model "$out/bench.pt" --onnx "$out/bench.onnx" --onnx-fused "$out/bench-fused.onnx" \
        --engines bertj,ort,ort-fused --threads "$threads" --rounds 3 --seconds 0.5 --shapes "$sweep_shapes" \
        --json "$out/sweep.json" 2>&1 | grep --line-buffered -v 'WARNING: Using incubator' | tee "$out/sweep.txt"
fi
if [ "$plot" = 1 ]; then
    "$python" scripts/plot_bench.py "$out/sweep.json" "$out/cost.png"
fi
if [ "$jmh" = 1 ]; then
    echo "== JMH microbenchmarks"
    "${java[@]}" bertj.backend.cpu.KernelBench 2>&1 | grep --line-buffered -v 'WARNING: Using incubator' | tee "$out/jmh.txt"
fi
if [ "$cputime" = 1 ]; then
    echo "== per-op CPU time on one thread"
    "${java[@]}" bertj.backend.cpu.CpuTimeBench 9 2>&1 | grep --line-buffered -v 'WARNING: Using incubator' | tee "$out/cpu-time.txt"
fi
echo "== results in $out/"
