# Shared by scripts/bench-*.sh (sourced, not run): the machine, the build with the bench profile, the random
# NVIDIA-format checkpoint and its ONNX exports. Expects $here (the project) and $out (the output folder).

JAVA_HOME=${JAVA_HOME:-$(ls -d /usr/lib/jvm/temurin-25* 2>/dev/null | head -n1)}
export JAVA_HOME MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
python=${BERTJ_PYTHON:-/usr/bin/python3}

# The CPU and its load: numbers from a busy machine are only comparable as ratios measured in the same run.
bench_machine() {
    echo "== machine"
    {
        lscpu | grep -E '^(Vendor ID|Model name|CPU family|Model:|CPU\(s\)|Thread|Core|Socket|L1d|L2|L3|Flags)' \
            | sed -E 's/^Flags:.*/Flags: '"$(grep -o -w -E 'avx2|fma|avx512f|avx512_bf16|avx512_fp16|amx_tile' /proc/cpuinfo | sort -u | tr '\n' ' ')"'/'
        grep -m1 'cpu MHz' /proc/cpuinfo
        echo "load average: $(cat /proc/loadavg)"
        "$JAVA_HOME/bin/java" -version 2>&1 | head -1
    } | tee "$out/machine.txt"
}

# Builds target/classes, target/bertj.jar and the bench sources; sets cp and java (the JVM command for the runners).
bench_build() {
    echo "== build (bench profile: JMH, ONNX Runtime, langchain4j and the runners)"
    mvn -q -B -Dstyle.color=never -Pbench -DskipTests package test-compile dependency:build-classpath \
        -Dmdep.outputFile=target/bench-classpath.txt -Dmdep.includeScope=test
    cp="target/classes:target/test-classes:$(cat target/bench-classpath.txt)"
    java=("$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx8g -cp "$cp")
}

# The launcher's start-up cache (target/bertj.aot), made now if the build changed, so that no timed run makes it.
bench_launcher() {
    echo "== the launcher's start-up cache (made now if the build changed, so that no timed run makes it)"
    ./bertj --version
}

# The random NVIDIA-format 4L-288D checkpoint $out/bench.pt (seed $1) and its two ONNX exports.
bench_model() {
    echo "== model: random NVIDIA-format checkpoint (seed $1), exported to ONNX twice"
    if ! "$python" -c 'import torch, onnx' 2>/dev/null; then
        echo "bench: $python needs torch and onnx (Debian: apt-get install python3-torch python3-onnx)" >&2
        exit 1
    fi
    "$python" weights/make_checkpoint.py --out "$out/bench.pt" --seed "$1"
    "$python" weights/export_onnx.py --model "$out/bench.pt" --out "$out/bench.onnx" --force 2>&1 | grep -v -E '^ |Warning' || true
    "$python" weights/export_onnx.py --model "$out/bench.pt" --out "$out/bench-fused.onnx" --graph fused --force
    [ -s "$out/bench.onnx" ] && [ -s "$out/bench-fused.onnx" ] || { echo "bench: ONNX export failed" >&2; exit 1; }
}
