#!/usr/bin/env bash
# bertj's OpenCL backend on an NVIDIA GPU machine that has neither Java nor network.
#
# Runs from the folder scripts/prepare-gpu-bundle.sh builds (default <repo>/.gpu, carried with the working tree):
#   1. unpacks the bundled Java runtime; finds NVIDIA's OpenCL library (libnvidia-opencl.so.1) and points the
#      bundled ICD loader at it (an .icd file in a private vendors directory, OCL_ICD_VENDORS);
#   2. bertj devices;
#   3. bertj parity --backend opencl against the bundled PyTorch float32 reference;
#   4. where PyTorch is installed: PyTorch fp16 (CUDA) error vs float64 on the same inputs, and bertj parity
#      --backend opencl against that float64 oracle (the fp16 backend's per-layer error);
#   5. bertj bench --backend opencl at batch 1/32/128 x seq 128/384, then once more at the largest shape with
#      BERTJ_OPENCL_PROFILE=1 (time per kernel from OpenCL profiling events);
#   6. where PyTorch is installed: the same shapes with PyTorch fp16 on CUDA (weights/torch_fp16.py bench);
#   7. a summary table.
# Every step has a timeout; a failing step is reported and the others still run. The whole run keeps within
# GPU_CHECK_BUDGET_S seconds (default 420). Results go to $OUT (default ./gpu-check-out): summary.txt, one .log
# per step, the JSON results.
#
# Usage: scripts/gpu-check.sh [BUNDLE_DIR]
# Environment: OUT, GPU_CHECK_BUDGET_S, BENCH_BATCHES ("1 32 128"), BENCH_SEQS ("128 384"), BERTJ_DEVICE (0),
#   BERTJ_OPENCL_LIB (use this OpenCL vendor library instead of searching for NVIDIA's; e.g. PoCL's
#   libpocl.so.2 to try the script on a CPU), PYTHON (python3), TORCH_DEVICE (cuda; cpu runs the PyTorch steps
#   with the CPU fp16 stand-in, to try the script where there is no GPU).
set -u
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bundle=$(cd "${1:-$root/.gpu}" 2>/dev/null && pwd || echo "${1:-$root/.gpu}")
out=${OUT:-$PWD/gpu-check-out}
budget=${GPU_CHECK_BUDGET_S:-420}
batches=${BENCH_BATCHES:-1 32 128}
seqs=${BENCH_SEQS:-128 384}
device=${BERTJ_DEVICE:-0}
python=${PYTHON:-python3}
torch_device=${TORCH_DEVICE:-cuda} # cpu: a dry run of the PyTorch steps with the fp16 stand-in (testing this script)
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/bertj-gpu.XXXXXX")
trap 'rm -rf "$work"' EXIT
t0=$(date +%s)
summary="$out/summary.txt"
: > "$summary"
export PATH="$PATH:/usr/local/nvidia/bin"

say() { echo "[gpu-check +$(( $(date +%s) - t0 ))s] $*" | tee -a "$summary"; }
left() { echo $(( budget - ($(date +%s) - t0) )); }

# step NAME TIMEOUT COMMAND...: runs COMMAND with its output in $out/NAME.log; reports, never aborts the script.
step() {
    local name=$1 limit=$2 remain start rc
    shift 2
    remain=$(left)
    if [ "$remain" -lt 20 ]; then
        say "$name: SKIPPED (the ${budget}s budget is spent)"
        return 99
    fi
    [ "$limit" -gt "$remain" ] && limit=$remain
    start=$(date +%s)
    timeout -k 5 "$limit" "$@" > "$out/$name.log" 2>&1
    rc=$?
    case $rc in
        0) say "$name: ok ($(( $(date +%s) - start ))s)" ;;
        124|137) say "$name: TIMED OUT after ${limit}s (see $name.log)" ;;
        *) say "$name: FAILED with exit $rc after $(( $(date +%s) - start ))s (see $name.log)" ;;
    esac
    return $rc
}

say "bertj gpu-check: bundle $bundle, results in $out, budget ${budget}s"
[ -f "$bundle/MANIFEST.txt" ] && sed -n '1,6p' "$bundle/MANIFEST.txt" | sed 's/^/    /' | tee -a "$summary"
for f in jre.tar.gz libOpenCL.so.1 bertj.jar model.pt ref32.safetensors; do
    if [ ! -f "$bundle/$f" ]; then
        say "the bundle lacks $f: build it with scripts/prepare-gpu-bundle.sh and carry .gpu with the working tree"
        exit 1
    fi
done
if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | sed 's/^/    nvidia-smi: /' | tee -a "$summary"
else
    say "nvidia-smi not found"
fi

# --- 1. Java runtime, NVIDIA's OpenCL library, the ICD loader ------------------------------------------------
tar -xzf "$bundle/jre.tar.gz" -C "$work" || { say "cannot unpack $bundle/jre.tar.gz"; exit 1; }
java=("$work/jre/bin/java" --enable-native-access=ALL-UNNAMED)
say "java: $("${java[@]}" -version 2>&1 | head -n1)"

# Every file of a name, from the dynamic linker's cache and the usual driver locations (printed for the record).
find_libs() {
    { ldconfig -p 2>/dev/null | awk -v n="$1" 'index($1, n) == 1 {print $NF}'
      find /usr/local/nvidia /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /lib/x86_64-linux-gnu /lib64 /usr/local/cuda* /opt \
          -maxdepth 5 -name "$1*" \( -type f -o -type l \) 2>/dev/null; } | sort -u
}
say "searching for NVIDIA's OpenCL library (libnvidia-opencl.so*):"
nv_libs=$(timeout 60 bash -c "$(declare -f find_libs); find_libs libnvidia-opencl.so")
if [ -n "$nv_libs" ]; then echo "$nv_libs" | sed 's/^/    /' | tee -a "$summary"; else say "    none found"; fi
for icd in /etc/OpenCL/vendors/*.icd; do
    [ -f "$icd" ] && say "    system ICD file $icd: $(head -c 200 "$icd")"
done
vendor=${BERTJ_OPENCL_LIB:-}
if [ -z "$vendor" ]; then
    vendor=$(echo "$nv_libs" | grep -E '/libnvidia-opencl\.so\.1$' | head -n1)
    [ -z "$vendor" ] && vendor=$(echo "$nv_libs" | head -n1)
fi
mkdir -p "$work/vendors" "$work/lib"
if [ -n "$vendor" ]; then
    echo "$vendor" > "$work/vendors/bertj.icd"
    export OCL_ICD_VENDORS="$work/vendors"
    say "OpenCL vendor library: $vendor (OCL_ICD_VENDORS=$OCL_ICD_VENDORS)"
elif ls /etc/OpenCL/vendors/*.icd >/dev/null 2>&1; then
    vendor=$(head -n1 "$(ls /etc/OpenCL/vendors/*.icd | head -n1)")
    say "no NVIDIA OpenCL library found; using this machine's /etc/OpenCL/vendors (set BERTJ_OPENCL_LIB to choose one)"
else
    say "no NVIDIA OpenCL library found; the OpenCL steps will fail (set BERTJ_OPENCL_LIB=/path/to/libnvidia-opencl.so.1)"
    vendor=/nonexistent/libnvidia-opencl.so.1
    echo "$vendor" > "$work/vendors/bertj.icd"
    export OCL_ICD_VENDORS="$work/vendors"
fi

# JOCL opens libOpenCL.so; the loader itself comes from the bundle (or from this machine when that one cannot load).
cp "$bundle/libOpenCL.so.1" "$work/lib/libOpenCL.so.1"
ln -sf libOpenCL.so.1 "$work/lib/libOpenCL.so"
vendor_dir=$(dirname "$vendor")
export LD_LIBRARY_PATH="$work/lib:$vendor_dir:/usr/local/nvidia/lib64:/usr/local/nvidia/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
probe() { # $1: a libOpenCL; prints "platforms N" or why it failed
    "$python" - "$1" <<'PY' 2>&1
import ctypes, sys
try:
    lib = ctypes.CDLL(sys.argv[1])
except OSError as e:
    print("cannot load:", e); sys.exit(1)
n = ctypes.c_uint(0)
rc = lib.clGetPlatformIDs(0, None, ctypes.byref(n))
print(f"clGetPlatformIDs -> {rc}, platforms {n.value}")
sys.exit(0 if rc == 0 and n.value > 0 else 1)
PY
}
if command -v "$python" >/dev/null 2>&1; then
    # Can the vendor library itself be opened (its own dependencies, e.g. libcuda.so.1, found)?
    say "opening $vendor directly: $("$python" -c 'import ctypes, sys; ctypes.CDLL(sys.argv[1]); print("ok")' "$vendor" 2>&1 | tail -n1)"
    if p=$(probe "$work/lib/libOpenCL.so.1"); then
        say "bundled ICD loader: $p"
    else
        say "bundled ICD loader: $p; its debug output (OCL_ICD_DEBUG=15):"
        OCL_ICD_DEBUG=15 probe "$work/lib/libOpenCL.so.1" 2>&1 | head -n 25 | sed 's/^/    /' | tee -a "$summary"
        say "trying this machine's ICD loaders"
        for cand in $(timeout 60 bash -c "$(declare -f find_libs); find_libs libOpenCL.so.1"); do
            if p=$(probe "$cand"); then
                ln -sf "$cand" "$work/lib/libOpenCL.so"
                say "using $cand: $p"
                break
            fi
            say "    $cand: $p"
        done
    fi
else
    say "no $python: skipping the loader probe"
fi

bertj=("${java[@]}" -jar "$bundle/bertj.jar")
dev_args=()
[ "$device" != 0 ] && dev_args=(--device "$device")

# --- 2. devices ------------------------------------------------------------------------------------------------
step devices 60 "${bertj[@]}" devices
sed 's/^/    /' "$out/devices.log" | head -n 30 | tee -a "$summary"

# --- 3. parity against PyTorch float32 -------------------------------------------------------------------------
step parity_float32 150 "${bertj[@]}" parity --model "$bundle/model.pt" --reference "$bundle/ref32.safetensors" --backend opencl ${dev_args[@]+"${dev_args[@]}"}
sed 's/^/    /' "$out/parity_float32.log" | head -n 20 | tee -a "$summary"

# --- 4. PyTorch fp16 error vs float64, and the fp16 backend vs the same float64 --------------------------------
have_torch=0
if command -v "$python" >/dev/null 2>&1 && step torch_info 90 "$python" -c \
        'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")'; then
    sed 's/^/    /' "$out/torch_info.log" | tee -a "$summary"
    { grep -q "cuda True" "$out/torch_info.log" || [ "$torch_device" = cpu ]; } && have_torch=1
fi
if [ $have_torch = 1 ]; then
    step torch_fp16_error 150 "$python" "$root/weights/torch_fp16.py" error --model "$bundle/model.pt" \
        --reference "$bundle/ref32.safetensors" --device "$torch_device" --json "$out/torch_fp16_error.json" \
        --write-float64 "$work/ref64.safetensors"
    sed 's/^/    /' "$out/torch_fp16_error.log" | head -n 16 | tee -a "$summary"
    if [ -f "$work/ref64.safetensors" ]; then
        step parity_float64 150 "${bertj[@]}" parity --model "$bundle/model.pt" --reference "$work/ref64.safetensors" --backend opencl ${dev_args[@]+"${dev_args[@]}"}
        sed 's/^/    /' "$out/parity_float64.log" | head -n 20 | tee -a "$summary"
    fi
else
    say "no PyTorch with CUDA here: skipping PyTorch fp16 (error and timing)"
fi

# --- 5. bench, opencl --------------------------------------------------------------------------------------------
"${bertj[@]}" --help > "$out/bertj_help.log" 2>&1
if grep -qE '^ +bench( |$)' "$out/bertj_help.log"; then
    for b in $batches; do
        for s in $seqs; do
            step "bench_opencl_b${b}_s${s}" 90 "${bertj[@]}" bench --model "$bundle/model.pt" --backend opencl ${dev_args[@]+"${dev_args[@]}"} \
                --batch "$b" --seq "$s" --json
        done
    done
    # Where the kernel time goes at the largest shape (OpenCL profiling events; not a timing run).
    bmax=$(echo $batches | tr ' ' '\n' | sort -n | tail -n1)
    smax=$(echo $seqs | tr ' ' '\n' | sort -n | tail -n1)
    step "profile_opencl_b${bmax}_s${smax}" 90 env BERTJ_OPENCL_PROFILE=1 "${bertj[@]}" bench --model "$bundle/model.pt" \
        --backend opencl ${dev_args[@]+"${dev_args[@]}"} --batch "$bmax" --seq "$smax" --json
    awk '/^bertj opencl profile/ {on = 1; print; next} on && /^  / {print; next} {on = 0}' "$out/profile_opencl_b${bmax}_s${smax}.log" | sed 's/^/    /' | tee -a "$summary"
else
    say "bench: this bertj.jar has no 'bench' command (it comes with the fast-CPU work; rebuild the bundle with"
    say "       scripts/prepare-gpu-bundle.sh once it is merged). Skipping the opencl timings; profiling parity instead."
    step profile_opencl_parity 90 env BERTJ_OPENCL_PROFILE=1 "${bertj[@]}" parity --model "$bundle/model.pt" \
        --reference "$bundle/ref32.safetensors" --backend opencl ${dev_args[@]+"${dev_args[@]}"}
    awk '/^bertj opencl profile/ {on = 1; print; next} on && /^  / {print; next} {on = 0}' "$out/profile_opencl_parity.log" | sed 's/^/    /' | tee -a "$summary"
fi

# --- 6. bench, PyTorch fp16 ----------------------------------------------------------------------------------------
if [ $have_torch = 1 ]; then
    step bench_torch_fp16 200 "$python" "$root/weights/torch_fp16.py" bench --model "$bundle/model.pt" --device "$torch_device" \
        --batch "$(echo $batches | tr ' ' ,)" --seq "$(echo $seqs | tr ' ' ,)" --seconds 1.5 --json "$out/bench_torch_fp16.json"
fi

# --- 7. summary ------------------------------------------------------------------------------------------------------
if command -v "$python" >/dev/null 2>&1; then
    "$python" - "$out" <<'PY' 2>&1 | tee -a "$summary"
import glob, json, os, sys
out = sys.argv[1]
rows = {}
for f in sorted(glob.glob(os.path.join(out, "bench_opencl_b*_s*.log"))):
    text = open(f).read()
    start = text.find("{")
    try:
        r = json.loads(text[start:text.rfind("}") + 1])
        rows.setdefault((r["batch"], r["seq"]), {})["opencl"] = r
    except Exception:
        pass
p = os.path.join(out, "bench_torch_fp16.json")
if os.path.exists(p):
    for r in json.load(open(p)):
        rows.setdefault((r["batch"], r["seq"]), {})["torch"] = r
if not rows:
    print("no timings")
    sys.exit(0)
print(f"{'batch':>6} {'seq':>5} | {'opencl seq/s':>13} {'ms/batch':>10} | {'torch fp16 seq/s':>16} {'ms/batch':>10} | opencl/torch")
for (b, s), v in sorted(rows.items()):
    o, t = v.get("opencl"), v.get("torch")
    fo = f"{o['seq_per_s']:13.1f} {o['ms_per_batch_median']:10.2f}" if o else f"{'-':>13} {'-':>10}"
    ft = f"{t['seq_per_s']:16.1f} {t['ms_per_batch_median']:10.2f}" if t else f"{'-':>16} {'-':>10}"
    ratio = f"{o['seq_per_s'] / t['seq_per_s']:.3f}" if o and t else "-"
    print(f"{b:>6} {s:>5} | {fo} | {ft} | {ratio}")
PY
fi
say "done in $(( $(date +%s) - t0 ))s; logs and JSON in $out"
