#!/usr/bin/env bash
# Builds the folder scripts/gpu-check.sh runs from on a GPU machine that has neither Java nor network:
#   .gpu/jre.tar.gz        a jlink-ed Java runtime (java.base + java.logging, from /usr/lib/jvm/temurin-25*)
#   .gpu/libOpenCL.so.1    Debian's OpenCL ICD loader (ocl-icd), which JOCL opens as libOpenCL.so
#   .gpu/bertj.jar         the shaded bertj jar built from this working tree
#   .gpu/model.pt          a random NVIDIA-format 4L-288D checkpoint, stored in float16 (26 MB; weights/make_checkpoint.py)
#   .gpu/ref32.safetensors PyTorch float32 reference outputs for it (weights/reference.py, batch 8 x seq 128)
#   .gpu/kernels-tests.jar the compiled kernels-tests (and the test helpers they use), to run on the GPU
#   .gpu/junit-console.jar JUnit's console launcher (org.junit.platform:junit-platform-console-standalone), which
#                          runs them there without Maven
#   .gpu/MANIFEST.txt      what was built, from what, with sizes and sha256 sums
# The folder is ignored by git (/.gpu/ in .gitignore); carry it with the working tree (≤ 64 MiB in all).
#
# Usage: scripts/prepare-gpu-bundle.sh [--seed N] [--out DIR]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out="$root/.gpu"
seed=20261126
while [ $# -gt 0 ]; do
    case "$1" in
        --seed) seed=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "prepare-gpu-bundle: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
limit=$((64 * 1024 * 1024))

JAVA_HOME=${JAVA_HOME:-$(ls -d /usr/lib/jvm/temurin-25* 2>/dev/null | head -n1)}
if [ -z "$JAVA_HOME" ] || [ ! -x "$JAVA_HOME/bin/jlink" ]; then
    echo "prepare-gpu-bundle: needs a JDK with jlink (JDK 25 at /usr/lib/jvm/temurin-25*, or set JAVA_HOME)" >&2
    exit 1
fi
export JAVA_HOME
python=${BERTJ_PYTHON:-/usr/bin/python3}
loader=$(readlink -f /usr/lib/x86_64-linux-gnu/libOpenCL.so.1 2>/dev/null || true)
if [ -z "$loader" ] || [ ! -f "$loader" ]; then
    echo "prepare-gpu-bundle: Debian's OpenCL ICD loader is missing (apt-get install ocl-icd-libopencl1)" >&2
    exit 1
fi

mkdir -p "$out"
modules=java.base,java.logging,java.management
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== building target/bertj.jar and the test classes"
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
(cd "$root" && mvn -q -B -Dstyle.color=never -DskipTests package)
cp "$root/target/bertj.jar" "$out/bertj.jar"

echo "== kernels-tests.jar (bertj/backend/opencl tests and bertj/testing helpers) and JUnit's console launcher"
"$JAVA_HOME/bin/jar" --create --file "$out/kernels-tests.jar" -C "$root/target/test-classes" bertj/backend/opencl \
    -C "$root/target/test-classes" bertj/testing
# JUnit Jupiter 5.x goes with the platform's 1.x (the pom's junit.version).
platform=$(sed -n 's:.*<junit.version>5\.\(.*\)</junit.version>.*:1.\1:p' "$root/pom.xml")
(cd "$root" && mvn -q -B -Dstyle.color=never dependency:copy \
    -Dartifact="org.junit.platform:junit-platform-console-standalone:$platform" -DoutputDirectory="$tmp/junit")
cp "$tmp"/junit/junit-platform-console-standalone-*.jar "$out/junit-console.jar"

echo "== jlink: java.base + java.logging (JOCL logs through java.util.logging) + java.management (JUnit's launcher)"
"$JAVA_HOME/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
    --compress zip-9 --output "$tmp/jre"
"$tmp/jre/bin/java" --enable-native-access=ALL-UNNAMED -jar "$out/bertj.jar" --version
tar -C "$tmp" -czf "$out/jre.tar.gz" jre

echo "== OpenCL ICD loader: $loader"
cp "$loader" "$out/libOpenCL.so.1"

echo "== random checkpoint (seed $seed, float16) and PyTorch float32 reference"
"$python" "$root/weights/make_checkpoint.py" --out "$out/model.pt" --seed "$seed" --dtype float16
"$python" "$root/weights/reference.py" --model "$out/model.pt" --out "$out/ref32.safetensors" --dtype float32 \
    --seed "$((seed + 1))" --batch 8 --seq 128

echo "== checking the bundle with the bundled runtime"
"$tmp/jre/bin/java" --enable-native-access=ALL-UNNAMED -jar "$out/bertj.jar" parity --model "$out/model.pt" \
    --reference "$out/ref32.safetensors" --backend cpu | tail -n 2
# The JUnit console finds and starts the kernels-tests with the bundled runtime (listing them runs nothing).
"$tmp/jre/bin/java" --enable-native-access=ALL-UNNAMED -jar "$out/junit-console.jar" discover --disable-banner \
    --class-path "$out/kernels-tests.jar:$out/bertj.jar" --select-class bertj.backend.opencl.TensorCoreLinearKernelTest \
    | grep -E "tests found|containers found" || { echo "prepare-gpu-bundle: the JUnit console cannot list the kernels-tests" >&2; exit 1; }

{
    echo "bertj GPU bundle, built $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -n)"
    echo "source: $(cd "$root" && git rev-parse HEAD 2>/dev/null || echo unknown)$(cd "$root" && [ -z "$(git status --porcelain 2>/dev/null)" ] || echo ' (with uncommitted changes)')"
    echo "java: $("$tmp/jre/bin/java" -version 2>&1 | head -n1) from $JAVA_HOME, modules $modules"
    echo "checkpoint: weights/make_checkpoint.py --seed $seed --dtype float16"
    echo "reference: weights/reference.py --dtype float32 --seed $((seed + 1)) --batch 8 --seq 128 (torch $("$python" -c 'import torch; print(torch.__version__)'))"
    echo "loader: $loader (ocl-icd $(dpkg-query -W -f='${Version}' ocl-icd-libopencl1 2>/dev/null || echo '?'))"
    echo "junit: junit-platform-console-standalone $platform; kernels-tests from target/test-classes"
    echo
    (cd "$out" && for f in jre.tar.gz libOpenCL.so.1 bertj.jar model.pt ref32.safetensors kernels-tests.jar junit-console.jar; do
        printf '%10d  %s  %s\n' "$(stat -c %s "$f")" "$(sha256sum "$f" | cut -c1-16)" "$f"
    done)
} > "$out/MANIFEST.txt"
cat "$out/MANIFEST.txt"

# What the device tool carries: the working tree (tracked and untracked, not ignored) plus this folder.
bundle_bytes=$(du -sb "$out" | cut -f1)
tree_bytes=$(cd "$root" && git ls-files -z --cached --others --exclude-standard | du -cb --files0-from=- 2>/dev/null | tail -n1 | cut -f1)
total=$((bundle_bytes + tree_bytes))
echo "== carried in all: bundle $((bundle_bytes / 1048576)) MiB + working tree $((tree_bytes / 1048576)) MiB = $((total / 1048576)) MiB (limit 64 MiB)"
if [ "$total" -gt "$limit" ]; then
    echo "prepare-gpu-bundle: the bundle and the working tree exceed 64 MiB together" >&2
    exit 1
fi
