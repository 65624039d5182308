#!/usr/bin/env bash
# Measures every backend against PyTorch float32 and float64 on one fresh random NVIDIA-format checkpoint,
# and PyTorch float32 against float64, and prints the tables docs/numerics.md quotes.
# Usage: scripts/numerics.sh [SEED] [BACKENDS...]     (default: a random seed; reference cpu)
set -euo pipefail
cd "$(dirname "$0")/.."
seed=${1:-$RANDOM}
shift || true
backends=("${@:-reference cpu}")
py=${BERTJ_PYTHON:-/usr/bin/python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "seed $seed"
"$py" weights/make_checkpoint.py --out "$work/m.pt" --seed "$seed" >/dev/null
for dt in float32 float64; do
    "$py" weights/reference.py --model "$work/m.pt" --out "$work/ref-$dt.safetensors" --dtype "$dt" \
        --seed "$seed" --batch 8 --seq 128 2>/dev/null >/dev/null
done
echo
echo "## PyTorch float32 vs PyTorch float64"
"$py" weights/compare_refs.py "$work/ref-float32.safetensors" "$work/ref-float64.safetensors"
for b in ${backends[*]}; do
    for dt in float64 float32; do
        echo
        echo "## bertj $b vs PyTorch $dt"
        ./bertj parity --model "$work/m.pt" --reference "$work/ref-$dt.safetensors" --backend "$b" || true
    done
done
