#!/usr/bin/env bash
# The CPU benchmark of docs/performance.md (not part of the tests): one random NVIDIA-format 4L-288D checkpoint,
# the same weights exported to ONNX, then bertj's cpu backend, ONNX Runtime (Java API) and PyTorch timed in one
# interleaved run at (batch, seq) = (1,128) (1,384) (8,384) (32,128), with seq/s and the ratio to ONNX Runtime.
#
#   scripts/bench-cpu.sh [--out DIR] [--threads T] [--rounds R] [--seconds S] [--shapes 1x128,...] [--seed N]
#                        [--no-torch] [--sweep] [--jmh] [--plot]
#
#   --sweep   also time bertj and ONNX Runtime over sequence lengths (batch 1) and batch sizes (seq 128)
#   --plot    draw the sweep as DIR/cost.png (needs python3-matplotlib)
#   --jmh     also run the JMH microbenchmarks (matmul, attention, LayerNorm; GFLOP/s and % of FMA peak)
# Everything lands in DIR (default bench-out/, ignored by git). Machines here are shared: compare the ratios
# measured in the same run, not absolute numbers across runs.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

out=bench-out threads=2 rounds=5 seconds=1 shapes=1x128,1x384,8x384,32x128 seed=1234
torch=1 sweep=0 jmh=0 plot=0
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
        -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench-cpu.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

JAVA_HOME=${JAVA_HOME:-$(ls -d /usr/lib/jvm/temurin-25* 2>/dev/null | head -n1)}
export JAVA_HOME MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
python=${BERTJ_PYTHON:-/usr/bin/python3}
mkdir -p "$out"

echo "== machine"
{
    lscpu | grep -E '^(Vendor ID|Model name|CPU family|Model:|CPU\(s\)|Thread|Core|Socket|L1d|L2|L3|Flags)' | sed 's/^Flags:.*\(avx512f\).*/Flags: ... avx512f .../'
    grep -m1 'cpu MHz' /proc/cpuinfo
    echo "load average: $(cat /proc/loadavg)"
    "$JAVA_HOME/bin/java" -version 2>&1 | head -1
} | tee "$out/machine.txt"

echo "== build (bench profile: JMH and the comparison runner)"
mvn -q -B -Dstyle.color=never -Pbench -DskipTests test-compile dependency:build-classpath \
    -Dmdep.outputFile=target/bench-classpath.txt -Dmdep.includeScope=test
cp="target/classes:target/test-classes:$(cat target/bench-classpath.txt)"
java=("$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx8g -cp "$cp")

echo "== model: random NVIDIA-format checkpoint (seed $seed), exported to ONNX twice"
"$python" weights/make_checkpoint.py --out "$out/bench.pt" --seed "$seed"
"$python" weights/export_onnx.py --model "$out/bench.pt" --out "$out/bench.onnx" --force 2>&1 | grep -v -E '^ |Warning' || true
"$python" weights/export_onnx.py --model "$out/bench.pt" --out "$out/bench-fused.onnx" --graph fused --force
[ -s "$out/bench.onnx" ] && [ -s "$out/bench-fused.onnx" ] || { echo "bench-cpu.sh: ONNX export failed" >&2; exit 1; }

engines=bertj,ort,ort-fused
[ "$torch" = 1 ] && engines=$engines,torch
echo "== interleaved comparison: $engines, $threads threads, shapes $shapes"
"${java[@]}" bertj.bench.Compare --model "$out/bench.pt" --onnx "$out/bench.onnx" --onnx-fused "$out/bench-fused.onnx" \
    --engines "$engines" --threads "$threads" --rounds "$rounds" --seconds "$seconds" --shapes "$shapes" \
    --python "$python" --project "$here" --json "$out/compare.json" 2>&1 | grep -v 'WARNING: Using incubator' | tee "$out/compare.txt"

if [ "$sweep" = 1 ]; then
    echo "== sweep: cost against sequence length (batch 1) and batch size (seq 128), bertj and ONNX Runtime"
    sweep_shapes=1x16,1x32,1x64,1x128,1x256,1x384,1x512,2x128,4x128,8x128,16x128,32x128
    "${java[@]}" bertj.bench.Compare --model "$out/bench.pt" --onnx "$out/bench.onnx" --onnx-fused "$out/bench-fused.onnx" \
        --engines bertj,ort,ort-fused --threads "$threads" --rounds 3 --seconds 0.5 --shapes "$sweep_shapes" \
        --json "$out/sweep.json" 2>&1 | grep -v 'WARNING: Using incubator' | tee "$out/sweep.txt"
fi
if [ "$plot" = 1 ]; then
    "$python" scripts/plot_bench.py "$out/sweep.json" "$out/cost.png"
fi
if [ "$jmh" = 1 ]; then
    echo "== JMH microbenchmarks"
    "${java[@]}" bertj.backend.cpu.KernelBench 2>&1 | grep -v 'WARNING: Using incubator' | tee "$out/jmh.txt"
fi
echo "== results in $out/"
