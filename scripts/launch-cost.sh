#!/usr/bin/env bash
# Host-side cost of the opencl backend's kernel launches (docs/performance.md, "Launches"): one random
# NVIDIA-format 4L-288D checkpoint, `bertj bench --backend opencl --json` at small shapes (where launches, not
# arithmetic, are what a pass is made of), alternately with launch sites that keep their kernel arguments (the
# default) and with every argument set on every launch as before (-Dbertj.opencl.reuseArgs=false), R rounds
# interleaved. Prints launches per pass, kernel arguments set per pass and host microseconds per launch (the
# time in clSetKernelArg + clEnqueueNDRangeKernel, median over the rounds), and ms per pass.
#
#   scripts/launch-cost.sh [--rounds R] [--shapes 1x16,1x128] [--kernels auto|portable|tensor-core] [--out DIR]
# Runs on whatever OpenCL device 0 is (PoCL here: say so when quoting the numbers).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
rounds=3 shapes=1x16,1x128 kernels=auto out=bench-out/launch-cost
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds=$2; shift 2 ;;
        --shapes) shapes=$2; shift 2 ;;
        --kernels) kernels=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "launch-cost.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
JAVA_HOME=${JAVA_HOME:-$(ls -d /usr/lib/jvm/temurin-25* 2>/dev/null | head -n1)}
export JAVA_HOME MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
python=${BERTJ_PYTHON:-/usr/bin/python3}
mkdir -p "$out"
[ -f target/bertj.jar ] || mvn -q -B -DskipTests package
[ -f "$out/model.pt" ] || "$python" weights/make_checkpoint.py --out "$out/model.pt" --seed 7 --dtype float16 > /dev/null
rm -rf "$out/runs" && mkdir -p "$out/runs"
for r in $(seq 1 "$rounds"); do
    for shape in ${shapes//,/ }; do
        for reuse in true false; do
            "$JAVA_HOME/bin/java" -Xmx2g --enable-native-access=ALL-UNNAMED -Dbertj.opencl.reuseArgs=$reuse -jar target/bertj.jar \
                bench --model "$out/model.pt" --backend opencl --kernels "$kernels" --batch "${shape%x*}" --seq "${shape#*x}" \
                --warmup 3 --runs 20 --json > "$out/runs/$r-$shape-$reuse.json"
        done
    done
done
"$python" - "$out/runs" <<'PY'
import glob, json, os, statistics, sys
runs = []
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    r = json.load(open(f))
    r["reuse_args"] = f.endswith("-true.json")
    runs.append(r)
print(f"device: {runs[0]['device']}, kernels {runs[0]['kernels']}; {len(runs)} runs")
print(f"{'shape':>8} {'kernel args':>22} {'launches/pass':>14} {'args set/pass':>14} {'host us/launch':>15} {'ms/pass':>9}")
for shape in sorted({(r['batch'], r['seq']) for r in runs}):
    for reuse in (False, True):
        rs = [r for r in runs if (r['batch'], r['seq']) == shape and r['reuse_args'] == reuse]
        med = lambda k: statistics.median(r[k] for r in rs)
        label = "kept per launch site" if reuse else "set on every launch"
        print(f"{shape[0]:>3} x {shape[1]:<3} {label:>22} {med('launches_per_pass'):14.0f} {med('kernel_args_set_per_pass'):14.0f}"
              f" {med('host_us_per_launch'):15.2f} {med('ms_per_batch_median'):9.2f}")
PY
