#!/usr/bin/env bash
# Measures the fp16 error per layer, as reported in docs/numerics.md: on fresh random NVIDIA-format 4L-288D
# checkpoints (float32 weights) and random padded inputs, for each tensor (embeddings, layer.i, logits):
#   - bertj --backend opencl (this machine's OpenCL device) vs the float64 oracle (PyTorch float64),
#   - bertj --backend opencl vs PyTorch float32,
#   - PyTorch "half precision" vs the same float64 oracle: real fp16 on CUDA when there is a GPU, else the CPU
#     stand-in of weights/torch_fp16.py (fp16-rounded weights and op outputs, float32 arithmetic).
# Prints a Markdown table of relative L2 / max-abs errors per tensor, worst over the runs.
#
# Usage: scripts/fp16-numerics.sh [SEEDS (default "101 102 103")] ; SHAPES="16x128 4x384" overrides the inputs.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seeds=${1:-101 102 103}
shapes=${SHAPES:-16x128 4x384}
python=${BERTJ_PYTHON:-/usr/bin/python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for seed in $seeds; do
    "$python" "$root/weights/make_checkpoint.py" --out "$work/m$seed.pt" --seed "$seed" >/dev/null
    for shape in $shapes; do
        b=${shape%x*}
        s=${shape#*x}
        tag="$seed-$shape"
        "$python" "$root/weights/reference.py" --model "$work/m$seed.pt" --out "$work/r64-$tag.safetensors" --dtype float64 \
            --seed "$((seed + 7))" --batch "$b" --seq "$s" >/dev/null
        "$python" "$root/weights/reference.py" --model "$work/m$seed.pt" --out "$work/r32-$tag.safetensors" --dtype float32 \
            --seed "$((seed + 7))" --batch "$b" --seq "$s" >/dev/null
        "$root/bertj" parity --model "$work/m$seed.pt" --reference "$work/r64-$tag.safetensors" --backend opencl --json \
            > "$work/ocl64-$tag.json" || true
        "$root/bertj" parity --model "$work/m$seed.pt" --reference "$work/r32-$tag.safetensors" --backend opencl --json \
            > "$work/ocl32-$tag.json" || true
        "$python" "$root/weights/torch_fp16.py" error --model "$work/m$seed.pt" --reference "$work/r64-$tag.safetensors" \
            --json "$work/torch-$tag.json" >/dev/null
    done
done
"$python" - "$work" <<'PY'
import glob, json, os, sys
work = sys.argv[1]
worst = {}
label = None
runs = 0
argmax = {"ocl": [], "torch": []}
for f in sorted(glob.glob(os.path.join(work, "ocl64-*.json"))):
    tag = os.path.basename(f)[len("ocl64-"):-len(".json")]
    runs += 1
    for kind, path in (("ocl64", f), ("ocl32", os.path.join(work, f"ocl32-{tag}.json"))):
        r = json.load(open(path))
        for t in r["tensors"]:
            w = worst.setdefault(t["name"], {})
            a = w.setdefault(kind, [0.0, 0.0])
            a[0], a[1] = max(a[0], t["rel_l2"]), max(a[1], t["max_abs"])
        if kind == "ocl64" and "argmax_agreement" in r:
            argmax["ocl"].append(min(r["argmax_agreement"]["start"], r["argmax_agreement"]["end"]))
    t = json.load(open(os.path.join(work, f"torch-{tag}.json")))
    label = t["label"]
    for x in t["tensors"]:
        a = worst.setdefault(x["name"], {}).setdefault("torch", [0.0, 0.0])
        a[0], a[1] = max(a[0], x["rel_l2"]), max(a[1], x["max_abs"])
    if "argmax_agreement" in t:
        argmax["torch"].append(min(t["argmax_agreement"].values()))
print(f"worst over {runs} runs; rel L2 / max abs")
print()
print(f"| tensor | bertj opencl fp16 vs float64 | bertj opencl fp16 vs PyTorch float32 | PyTorch {label} vs float64 |")
print("|---|---|---|---|")
for name, w in worst.items():
    cells = [f"{w[k][0]:.2e} / {w[k][1]:.2e}" if k in w else "-" for k in ("ocl64", "ocl32", "torch")]
    print(f"| {name} | " + " | ".join(cells) + " |")
print()
print(f"least start/end argmax agreement: bertj opencl {min(argmax['ocl']):.4f}, PyTorch {label} {min(argmax['torch']):.4f}")
PY
