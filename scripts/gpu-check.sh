#!/usr/bin/env bash
# bertj's OpenCL backend on an NVIDIA GPU machine that has neither Java nor network: one prepared run that tells
# all. Runs from the folder scripts/prepare-gpu-bundle.sh builds (default <repo>/.gpu, carried with the working tree):
#   1. setup: unpacks the bundled Java runtime; finds NVIDIA's OpenCL library (libnvidia-opencl.so.1) and points the
#      bundled ICD loader at it (an .icd file in a private vendors directory, OCL_ICD_VENDORS);
#   2. probe: the driver (nvidia-smi), `bertj devices` (compute capability, the kernels --kernels auto picks and
#      why, the PTX .version/.target of the probe's program from CL_PROGRAM_BINARIES, the probe's known answer);
#   3. kernels: kernels-tests on the GPU with the tensor-core kernels' PTX (JUnit console): every tensor-core kernel
#      against float64 at the model's shapes and awkward ones, the probe, the fused portable kernel, the backend
#      end to end (five launches per layer);
#   4. parity: `bertj parity --backend opencl --kernels tensor-core` against PyTorch float32; where PyTorch has
#      CUDA: PyTorch fp16's own error against float64 on the same inputs, and bertj (tensor-core and portable)
#      against that float64 oracle — the error table of docs/numerics.md;
#   5. bench: batch 1/32/128 x seq 128/384 for bertj tensor-core, bertj portable, PyTorch fp16 eager and
#      torch.compile, same weights, same run; a summary table with the ratios;
#   6. tuning: tensor-core tiles at 128 x 384, OpenCL profiles (time per kernel) of both kernel sets;
#   7. diagnosis, only if step 3 failed: the same kernels-tests with every PTX step emulated, on the GPU (if those
#      pass, the PTX or the driver's reading of it is at fault, not the tiling).
# Every step has a timeout; a failing step is reported and the others still run; the whole run keeps within
# GPU_CHECK_BUDGET_S seconds (default 480: the machine starts cold and a command may run 10 minutes). Results go to
# $OUT (default ./gpu-check-out): summary.txt, one .log per step, the JSON results, tables.md.
#
# Usage: scripts/gpu-check.sh [BUNDLE_DIR]
# Environment: OUT, GPU_CHECK_BUDGET_S, BENCH_BATCHES ("1 32 128"), BENCH_SEQS ("128 384"), BERTJ_DEVICE (0),
#   BERTJ_OPENCL_LIB (use this OpenCL vendor library instead of searching for NVIDIA's; e.g. PoCL's libpocl.so.2 to
#   try the script on a CPU), PYTHON (python3), TORCH_DEVICE (cuda; cpu runs the PyTorch steps with the CPU fp16
#   stand-in, to try the script where there is no GPU), SKIP (space-separated step names to leave out).
set -u
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bundle=$(cd "${1:-$root/.gpu}" 2>/dev/null && pwd || echo "${1:-$root/.gpu}")
out=${OUT:-$PWD/gpu-check-out}
budget=${GPU_CHECK_BUDGET_S:-480}
batches=${BENCH_BATCHES:-1 32 128}
seqs=${BENCH_SEQS:-128 384}
device=${BERTJ_DEVICE:-0}
python=${PYTHON:-python3}
torch_device=${TORCH_DEVICE:-cuda}
skip=" ${SKIP:-} "
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
show() { sed 's/^/    /' | tee -a "$summary"; } # indented into the summary

# step NAME TIMEOUT COMMAND...: runs COMMAND with its output in $out/NAME.log; reports, never aborts the script.
step() {
    local name=$1 limit=$2 remain start rc
    shift 2
    case "$skip" in *" $name "*) say "$name: skipped (SKIP)"; return 98 ;; esac
    remain=$(left)
    if [ "$remain" -lt 15 ]; then
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
[ -f "$bundle/MANIFEST.txt" ] && sed -n '1,7p' "$bundle/MANIFEST.txt" | show
for f in jre.tar.gz libOpenCL.so.1 bertj.jar model.pt ref32.safetensors; do
    if [ ! -f "$bundle/$f" ]; then
        say "the bundle lacks $f: build it with scripts/prepare-gpu-bundle.sh and carry .gpu with the working tree"
        exit 1
    fi
done

# --- 1. setup: Java runtime, NVIDIA's OpenCL library, the ICD loader -----------------------------------------
say "== 1. setup"
tar -xzf "$bundle/jre.tar.gz" -C "$work" || { say "cannot unpack $bundle/jre.tar.gz"; exit 1; }
java=("$work/jre/bin/java" --enable-native-access=ALL-UNNAMED -Xmx8g)
say "java: $("${java[@]}" -version 2>&1 | head -n1)"

# Every file of a name, from the dynamic linker's cache and the usual driver locations (printed for the record).
find_libs() {
    { ldconfig -p 2>/dev/null | awk -v n="$1" 'index($1, n) == 1 {print $NF}'
      find /usr/local/nvidia /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /lib/x86_64-linux-gnu /lib64 /usr/local/cuda* /opt \
          -maxdepth 5 -name "$1*" \( -type f -o -type l \) 2>/dev/null; } | sort -u
}
say "searching for NVIDIA's OpenCL library (libnvidia-opencl.so*):"
nv_libs=$(timeout 60 bash -c "$(declare -f find_libs); find_libs libnvidia-opencl.so")
if [ -n "$nv_libs" ]; then echo "$nv_libs" | show; else say "    none found"; fi
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
    say "opening $vendor directly: $("$python" -c 'import ctypes, sys; ctypes.CDLL(sys.argv[1]); print("ok")' "$vendor" 2>&1 | tail -n1)"
    if p=$(probe "$work/lib/libOpenCL.so.1"); then
        say "bundled ICD loader: $p"
    else
        say "bundled ICD loader: $p; its debug output (OCL_ICD_DEBUG=15):"
        OCL_ICD_DEBUG=15 probe "$work/lib/libOpenCL.so.1" 2>&1 | head -n 25 | show
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

# --- 2. probe: driver, device, the tensor-core decision, PTX header, the probe's answer ----------------------
say "== 2. probe"
if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap,clocks.max.sm --format=csv 2>&1 | show
else
    say "nvidia-smi not found"
fi
step devices 90 "${bertj[@]}" devices
show < "$out/devices.log"
step devices_json 90 "${bertj[@]}" devices --json
tc_ok=0
grep -q "^  kernels        tensor-core:" "$out/devices.log" && tc_ok=1
if [ $tc_ok = 1 ]; then
    say "tensor-core kernels: the probe passed on device $device"
else
    say "tensor-core kernels: NOT available on device $device (the line above says why); the tensor-core steps will fail"
fi

# --- 3. kernels against float64, with the PTX (kernels-tests through the JUnit console) ----------------------
say "== 3. kernels against float64 (kernels-tests, tensor-core kernels with their PTX)"
junit=()
if [ -f "$bundle/junit-console.jar" ] && [ -f "$bundle/kernels-tests.jar" ]; then
    junit=(-jar "$bundle/junit-console.jar" execute --disable-banner
           --details=summary --class-path "$bundle/kernels-tests.jar:$bundle/bertj.jar"
           --select-class bertj.backend.opencl.TensorCoreProbeTest --select-class bertj.backend.opencl.TensorCoreLinearKernelTest
           --select-class bertj.backend.opencl.TensorCoreAttentionKernelTest --select-class bertj.backend.opencl.LinearLayerNormKernelTest
           --select-class bertj.backend.opencl.OpenClBackendTest)
    kernels_rc=0
    step kernel_tests 180 "${java[@]}" -Dbertj.opencl.device="$device" -Dbertj.tc.mode=asm "${junit[@]}" || kernels_rc=1
    # the first hint of a failure, then every kernel line: the error and err/allowed of each case
    grep -E "^\[opencl\]|^  JUnit Jupiter:|^    => |tests (successful|failed)" "$out/kernel_tests.log" | grep -v "rel-L2 vs float64" \
        | cut -c1-300 | head -n 40 | show
    grep -E "^\[kernel\]" "$out/kernel_tests.log" | sed 's/\[[0-9.]* s since the last check\]//' > "$out/kernel_lines.txt"
    say "$(wc -l < "$out/kernel_lines.txt") kernel cases; the largest err/allowed:"
    sort -t' ' -k1,1 "$out/kernel_lines.txt" | awk '{for (i = 1; i <= NF; i++) if ($i == "err/allowed") print $(i + 1), $0}' \
        | sort -gr | head -n 8 | cut -c1-220 | show
else
    say "the bundle has no junit-console.jar / kernels-tests.jar: rebuild it with scripts/prepare-gpu-bundle.sh"
    kernels_rc=1
fi

# --- 4. parity --------------------------------------------------------------------------------------------------
say "== 4. parity"
step parity_tc_float32 120 "${bertj[@]}" parity --model "$bundle/model.pt" --reference "$bundle/ref32.safetensors" \
    --backend opencl --kernels tensor-core ${dev_args[@]+"${dev_args[@]}"}
show < "$out/parity_tc_float32.log"
have_torch=0
if command -v "$python" >/dev/null 2>&1 && step torch_info 90 "$python" -c \
        'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")'; then
    show < "$out/torch_info.log"
    { grep -q "cuda True" "$out/torch_info.log" || [ "$torch_device" = cpu ]; } && have_torch=1
fi
if [ $have_torch = 1 ]; then
    step torch_fp16_error 150 "$python" "$root/weights/torch_fp16.py" error --model "$bundle/model.pt" \
        --reference "$bundle/ref32.safetensors" --device "$torch_device" --json "$out/torch_fp16_error.json" \
        --write-float64 "$work/ref64.safetensors"
    head -n 16 "$out/torch_fp16_error.log" | show
    if [ -f "$work/ref64.safetensors" ]; then
        for k in tensor-core portable; do
            step "parity_${k}_float64" 120 "${bertj[@]}" parity --model "$bundle/model.pt" --reference "$work/ref64.safetensors" \
                --backend opencl --kernels "$k" ${dev_args[@]+"${dev_args[@]}"} --json
        done
    fi
else
    say "no PyTorch with CUDA here: skipping PyTorch fp16 (error and timing)"
fi

# --- 5. bench: bertj tensor-core, bertj portable, PyTorch eager, torch.compile ----------------------------------
say "== 5. bench"
for b in $batches; do
    for s in $seqs; do
        for k in tensor-core portable; do
            step "bench_${k}_b${b}_s${s}" 60 "${bertj[@]}" bench --model "$bundle/model.pt" --backend opencl --kernels "$k" \
                ${dev_args[@]+"${dev_args[@]}"} --batch "$b" --seq "$s" --json
        done
    done
done
if [ $have_torch = 1 ]; then
    step bench_torch_eager 150 "$python" "$root/weights/torch_fp16.py" bench --model "$bundle/model.pt" --device "$torch_device" \
        --batch "$(echo $batches | tr ' ' ,)" --seq "$(echo $seqs | tr ' ' ,)" --seconds 1.0 --json "$out/bench_torch_eager.json"
    # One dynamic-shape graph: a compile per shape would take minutes (its compile time is in compile_s, untimed).
    step bench_torch_compile 180 "$python" "$root/weights/torch_fp16.py" bench --model "$bundle/model.pt" --device "$torch_device" \
        --batch "$(echo $batches | tr ' ' ,)" --seq "$(echo $seqs | tr ' ' ,)" --seconds 1.0 --compile --dynamic \
        --json "$out/bench_torch_compile.json"
    grep -hE "error|Error" "$out/bench_torch_compile.log" 2>/dev/null | tail -n 3 | show
fi

# --- 6. tuning: tiles at the largest shape, profiles ------------------------------------------------------------
say "== 6. tuning at the largest shape"
bmax=$(echo $batches | tr ' ' '\n' | sort -n | tail -n1)
smax=$(echo $seqs | tr ' ' '\n' | sort -n | tail -n1)
for tile in 128x96x32/4x2 64x96x32/2x2 128x96x32/2x2 64x64x32/2x2; do
    step "tile_linear_${tile//\//_}" 45 "${java[@]}" -Dbertj.tc.linearTile="$tile" -jar "$bundle/bertj.jar" bench --model "$bundle/model.pt" \
        --backend opencl --kernels tensor-core ${dev_args[@]+"${dev_args[@]}"} --batch "$bmax" --seq "$smax" --json
done
for tile in 4x64 2x64 4x32 2x128; do
    step "tile_attention_$tile" 45 "${java[@]}" -Dbertj.tc.attentionTile="$tile" -jar "$bundle/bertj.jar" bench --model "$bundle/model.pt" \
        --backend opencl --kernels tensor-core ${dev_args[@]+"${dev_args[@]}"} --batch "$bmax" --seq "$smax" --json
done
# Host cost per launch with every kernel argument set on every launch, as before launch sites kept them (batch 1).
bmin=$(echo $batches | tr ' ' '\n' | sort -n | head -n1)
smin=$(echo $seqs | tr ' ' '\n' | sort -n | head -n1)
step "launch_args_every_time_b${bmin}_s${smin}" 45 "${java[@]}" -Dbertj.opencl.reuseArgs=false -jar "$bundle/bertj.jar" bench \
    --model "$bundle/model.pt" --backend opencl --kernels tensor-core ${dev_args[@]+"${dev_args[@]}"} --batch "$bmin" --seq "$smin" --json
for k in tensor-core portable; do
    step "profile_${k}_b${bmax}_s${smax}" 60 env BERTJ_OPENCL_PROFILE=1 "${bertj[@]}" bench --model "$bundle/model.pt" \
        --backend opencl --kernels "$k" ${dev_args[@]+"${dev_args[@]}"} --batch "$bmax" --seq "$smax" --json
    awk '/^bertj opencl profile/ {on = 1; print; next} on && /^  / {print; next} {on = 0}' "$out/profile_${k}_b${bmax}_s${smax}.log" | show
done

# --- 7. diagnosis: the kernels emulated on the GPU, only if they failed with their PTX ---------------------------
if [ "${kernels_rc:-1}" != 0 ] && [ ${#junit[@]} -gt 0 ]; then
    say "== 7. diagnosis: kernels-tests with every PTX step emulated, on this GPU"
    step kernel_tests_emulated 150 "${java[@]}" -Dbertj.opencl.device="$device" -Dbertj.tc.mode=emulated "${junit[@]}"
    [ -f "$out/kernel_tests_emulated.log" ] && grep -E "^  JUnit Jupiter:|^    => |tests (successful|failed)" \
        "$out/kernel_tests_emulated.log" | cut -c1-300 | head -n 20 | show
fi

# --- summary tables -----------------------------------------------------------------------------------------------
say "== summary"
if command -v "$python" >/dev/null 2>&1; then
    "$python" - "$out" <<'PY' 2>&1 | tee "$out/tables.md" | tee -a "$summary"
import glob, json, os, re, sys
out = sys.argv[1]

def load_json_log(path):
    try:
        text = open(path).read()
        return json.loads(text[text.find("{"):text.rfind("}") + 1])
    except Exception:
        return None

rows = {}
for k in ("tensor-core", "portable"):
    for f in glob.glob(os.path.join(out, f"bench_{k}_b*_s*.log")):
        r = load_json_log(f)
        if r:
            rows.setdefault((r["batch"], r["seq"]), {})[k] = r
for k in ("eager", "compile"):
    p = os.path.join(out, f"bench_torch_{k}.json")
    if os.path.exists(p):
        try:
            for r in json.load(open(p)):
                rows.setdefault((r["batch"], r["seq"]), {})[k] = r
        except Exception:
            pass
def cell(r):
    return f"{r['seq_per_s']:,.0f} seq/s, {r['ms_per_batch_median']:.2f} ms" if r else "-"
def ratio(a, b):
    return f"{a['seq_per_s'] / b['seq_per_s']:.2f}x" if a and b else "-"
if rows:
    print("| batch x seq | bertj tensor-core | bertj portable | PyTorch fp16 eager | torch.compile | tensor-core / eager | tensor-core / compile | tensor-core / portable |")
    print("|---|---|---|---|---|---|---|---|")
    for (b, s), v in sorted(rows.items()):
        t, p, e, c = (v.get(x) for x in ("tensor-core", "portable", "eager", "compile"))
        print(f"| {b} x {s} | {cell(t)} | {cell(p)} | {cell(e)} | {cell(c)} | {ratio(t, e)} | {ratio(t, c)} | {ratio(t, p)} |")
    t = [v["tensor-core"] for v in rows.values() if "tensor-core" in v]
    if t:
        r = t[0]
        print(f"\nbertj tensor-core: {r.get('launches_per_pass', 0):.0f} launches per pass, "
              f"{r.get('host_us_per_launch', 0):.1f} us host time per launch, kernels: {r.get('kernels')} ({r.get('kernels_reason')})")
    c = [v["compile"] for v in rows.values() if "compile" in v]
    if c:
        print(f"torch.compile: compile time {max(x.get('compile_s', 0) for x in c):.1f} s at most per shape (not timed), dynamic={c[0].get('dynamic')}")
else:
    print("no timings")

la = glob.glob(os.path.join(out, "launch_args_every_time_b*_s*.log"))
if la:
    r = load_json_log(la[0])
    same = rows.get((r["batch"], r["seq"]), {}).get("tensor-core") if r else None
    if r and same:
        print(f"host cost per launch at {r['batch']} x {r['seq']}: {same['host_us_per_launch']:.2f} us with launch sites keeping their"
              f" arguments ({same['kernel_args_set_per_pass']:.0f} set per pass), {r['host_us_per_launch']:.2f} us setting all"
              f" ({r['kernel_args_set_per_pass']:.0f} per pass); {same['ms_per_batch_median']:.3f} vs {r['ms_per_batch_median']:.3f} ms per pass")

tiles = []
for f in sorted(glob.glob(os.path.join(out, "tile_*.log"))):
    r = load_json_log(f)
    if r:
        tiles.append((os.path.basename(f)[5:-4], r))
if tiles:
    print("\n| tile (128 x 384 unless said) | bertj tensor-core |\n|---|---|")
    for name, r in tiles:
        print(f"| {name} | {cell(r)} |")

err = {}
p = os.path.join(out, "torch_fp16_error.json")
if os.path.exists(p):
    for t in json.load(open(p))["tensors"]:
        err.setdefault(t["name"], {})["torch"] = t
for k in ("tensor-core", "portable"):
    r = load_json_log(os.path.join(out, f"parity_{k}_float64.log"))
    if r:
        for t in r["tensors"]:
            err.setdefault(t["name"], {})[k] = t
if err:
    print("\n| tensor | bertj tensor-core vs float64 | bertj portable vs float64 | PyTorch fp16 vs float64 |\n|---|---|---|---|")
    def e(t):
        return f"{t['rel_l2']:.2e} / {t['max_abs']:.2e}" if t else "-"
    for name, v in err.items():
        print(f"| {name} | {e(v.get('tensor-core'))} | {e(v.get('portable'))} | {e(v.get('torch'))} |")
    print("(relative L2 / max abs, same weights and inputs)")
PY
fi
say "done in $(( $(date +%s) - t0 ))s; logs, JSON and tables.md in $out"
