#!/usr/bin/env bash
# A bounded fuzzing campaign: runs each Jazzer fuzz target of src/test/java/bertj/fuzz in turn, one JVM at a time,
# for SECONDS_PER_TARGET seconds (default 60), and prints per target the executions, the edges covered in bertj's
# own classes, the corpus kept and the findings.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]      TARGET: e.g. PickleFuzzTest (default: all of them)
#   FUZZ_EXECUTIONS=1000000 scripts/fuzz.sh 3600 ...      also stop a target after that many executions
#
# The corpus each run grows is kept in .cifuzz-corpus/ (ignored by git) and seeds the next run. A finding — an input
# for which something other than a documented one-line ModelFileException came out, or that took more than a
# second — is written by Jazzer to src/test/resources/bertj/fuzz/<Target>Inputs/<method>/ and from then on runs in
# every `mvn test` (regression mode): fix it, then keep the file. Logs: target/fuzz/<Target>.log.
# Each JVM gets -Xmx512m (an OutOfMemoryError is a finding) and the JVM's default thread stack, as ./bertj runs.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
all=(PickleFuzzTest#unpickle PyTorchZipFuzzTest#checkpoint SafeTensorsFuzzTest#safetensors OnnxFuzzTest#onnx
     ModelLoaderFuzzTest#loader VocabularyFuzzTest#vocabulary TokenizerFuzzTest#tokenizer SquadFuzzTest#squad
     RequestsFuzzTest#requests)
targets=()
if [ $# -eq 0 ]; then
    targets=("${all[@]}")
else
    for want in "$@"; do
        found=""
        for t in "${all[@]}"; do [ "${t%%#*}" = "${want%%#*}" ] && found=$t; done
        [ -n "$found" ] || { echo "fuzz: no target $want (targets: ${all[*]%%#*})" >&2; exit 2; }
        targets+=("$found")
    done
fi

if [ -z "${JAVA_HOME:-}" ] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -qE 'version "(2[1-9]|[3-9][0-9])'; then
    JAVA_HOME=$(ls -d /usr/lib/jvm/temurin-25* 2>/dev/null | head -n1 || true)
fi
[ -n "$JAVA_HOME" ] || { echo "fuzz: needs JDK 21+ (set JAVA_HOME)" >&2; exit 1; }
export JAVA_HOME PATH="$JAVA_HOME/bin:$PATH"
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"

mkdir -p target/fuzz
echo "fuzz: compiling the tests ..."
mvn -q -B -Dstyle.color=never test-compile >target/fuzz/compile.log 2>&1 || { cat target/fuzz/compile.log >&2; exit 1; }

# Coverage is counted in bertj's own classes: the fuzz harness and the test helpers it calls are not instrumented.
harness='bertj.fuzz.**:bertj.testing.**:bertj.readers.ReadersFuzzAccess:bertj.model.ModelFuzzAccess:bertj.model.OnnxImportTest*'
harness+=':bertj.tokenizer.HfTokenizers*:bertj.tokenizer.TokenizerCorpus'
jvm="-Xmx512m -XX:+EnableDynamicAgentLoading --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector"
printf '%-20s %8s %12s %9s %8s %8s %10s  %s\n' target seconds executions exec/s edges features corpus findings
status=0
for t in "${targets[@]}"; do
    name=${t%%#*}
    log=target/fuzz/$name.log
    inputs=src/test/resources/bertj/fuzz/${name}Inputs/${t#*#}
    start=$(date +%s)
    set +e
    JAZZER_FUZZ=1 timeout $((seconds + 600)) mvn -B -Dstyle.color=never surefire:test -Dtest="$t" -DargLine="$jvm" \
        -Djazzer.max_duration="${seconds}s" ${FUZZ_EXECUTIONS:+-Djazzer.max_executions=$FUZZ_EXECUTIONS} '-Djazzer.instrument=bertj.**' \
        "-Djazzer.instrumentation_excludes=$harness" >"$log" 2>&1
    rc=$?
    set -e
    took=$(( $(date +%s) - start ))
    # libFuzzer's status lines: "#N <event> cov: E ft: F corp: C/B ..." and, at the end, "Done N runs in S second(s)".
    last=$(grep -a -E '^#[0-9]+' "$log" | tail -n1 || true)
    runs=$(grep -a -oE '^Done [0-9]+ runs in [0-9]+' "$log" | tail -n1 | awk '{print $2, $5}' || true)
    execs=${runs%% *}; secs=${runs##* }
    [ -n "$execs" ] || { execs=$(sed -E 's/^#([0-9]+).*/\1/' <<<"$last"); secs=$took; }
    edges=$(grep -oE 'cov: [0-9]+' <<<"$last" | awk '{print $2}' || true)
    ft=$(grep -oE 'ft: [0-9]+' <<<"$last" | awk '{print $2}' || true)
    corp=$(grep -oE 'corp: [0-9]+' <<<"$last" | awk '{print $2}' || true)
    # libFuzzer writes each crashing input as "Test unit written to <inputs>/crash-<sha1>".
    findings=$(grep -a -c 'Test unit written to' "$log" || true)
    rate=$([ "${secs:-0}" -gt 0 ] 2>/dev/null && echo $(( ${execs:-0} / secs )) || echo "-")
    note="$findings"
    if [ "$findings" -gt 0 ]; then
        note="$findings: $(grep -a -m1 -oE 'FuzzTestFinding[^[]*' "$log" | cut -c1-160 || true) (see $inputs)"
        status=1
    elif [ $rc -ne 0 ]; then
        note="run failed (exit $rc), see $log"
        status=1
    fi
    printf '%-20s %8s %12s %9s %8s %8s %10s  %s\n' "$name" "${secs:-?}" "${execs:-?}" "$rate" "${edges:-?}" "${ft:-?}" "${corp:-?}" "$note"
done
exit $status
