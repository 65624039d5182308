#!/usr/bin/env bash
# Question answering throughput (docs/performance.md; not part of the tests): a generated SQuAD v1.1 file of
# 1 000 questions on the random NVIDIA-format 4L-288D checkpoint, cut into windows as run_squad.py cuts them, then
# in one interleaved run
#   bertj-cli    ./bertj squad --decoding masked, one process per round (start-up, tokenization, decoding, output)
#   bertj        the same windows through bertj's length-grouped batches (qa.Batches), warm
#   ort          ONNX Runtime on the same windows in the same batches (torch export), warm
#   ort-fused    the same on ONNX Runtime's contrib-op graph
#   *-384        squad's default (NVIDIA's decoding: every window padded to 384), bertj-cli and Batches, vs
#                ONNX Runtime on the same padded windows (ort-384)
# with windows/s and the ratio to ONNX Runtime.
#
#   scripts/bench-qa.sh [--out DIR] [--questions N] [--rounds R] [--threads T] [--batch B] [--seed N]
#
# Everything lands in DIR (default bench-out/, ignored by git). Machines here are shared: compare the ratios
# measured in the same run, not absolute numbers across runs.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

out=bench-out questions=1000 rounds=3 threads=2 batch=16 seed=1234
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out=$2; shift 2 ;;
        --questions) questions=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --batch) batch=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "bench-qa.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

. scripts/bench-lib.sh
mkdir -p "$out"
bench_machine
bench_build
bench_model "$seed"
bench_launcher
echo "== QA: $questions questions, $rounds interleaved rounds, $threads threads, batches of up to $batch windows"
"${java[@]}" bertj.bench.QaBench --model "$out/bench.pt" --onnx "$out/bench.onnx" --onnx-fused "$out/bench-fused.onnx" \
    --out "$out" --bertj "$here/bertj" --questions "$questions" --rounds "$rounds" --threads "$threads" --batch "$batch" \
    2>&1 | grep --line-buffered -v -E 'WARNING: Using incubator|^SLF4J' | tee "$out/qa.txt"
