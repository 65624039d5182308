#!/usr/bin/env bash
# Parity demo: builds a random checkpoint in NVIDIA's exact 4L-288D format with PyTorch, computes PyTorch's
# outputs in float32 and float64, and checks bertj's backends against them with `bertj parity`.
# Usage: scripts/parity-demo.sh [SEED] [BACKEND...]   (default: random seed; reference and cpu)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
seed=${1:-$RANDOM}
shift || true
backends=("$@")
[ ${#backends[@]} -gt 0 ] || backends=(reference cpu)
work=${BERTJ_DEMO_DIR:-$(mktemp -d)}
py=${BERTJ_PYTHON:-/usr/bin/python3}
echo "== random NVIDIA-format checkpoint, seed $seed, in $work"
"$py" weights/make_checkpoint.py --out "$work/bert-4l-288d-random.pt" --seed "$seed"
for dt in float64 float32; do
    "$py" weights/reference.py --model "$work/bert-4l-288d-random.pt" --out "$work/ref-$dt.safetensors" \
        --dtype "$dt" --seed "$seed" 2>/dev/null
done
./bertj info --model "$work/bert-4l-288d-random.pt" | head -7
status=0
for b in "${backends[@]}"; do
    ref=float32
    [ "$b" = reference ] && ref=float64
    echo
    echo "== bertj parity --backend $b against PyTorch $ref"
    ./bertj parity --model "$work/bert-4l-288d-random.pt" --reference "$work/ref-$ref.safetensors" --backend "$b" || status=1
done
exit $status
