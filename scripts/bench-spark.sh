#!/usr/bin/env bash
# The Spark benchmark of docs/spark.md (not part of the tests): what Spark costs on one machine. The same corpus
# and model (all-MiniLM-L6-v2, mean pooling, normalised) through
#   api-given    SentenceEmbedder.embed in one JVM, texts in the file's order, --batch at a time
#   api-sorted   the same, texts sorted by length first (the Spark job sorts inside its partitions)
#   local[1]     the embed job (bertj-spark.jar + Spark's jars, as spark-submit runs it): JSON Lines in, Parquet out
#   local[2]     the same with two task slots sharing the executor's one model
# Each configuration runs in its own JVM, interleaved round by round (the order rotating), and reports rows/s over
# its work alone, after the model is loaded (Spark: after the session starts; the job's read, embed and write).
# The table gives medians over rounds and the ratio of medians to api-given; peak RSS per JVM when GNU time is
# there. Machines here are shared: compare ratios from one run, not absolute numbers across runs.
#
#   scripts/bench-spark.sh [--out DIR] [--rows N] [--rounds R] [--batch-tokens N] [--partitions P] [--seed N]
#
# --partitions: input splits of the JSON Lines file (default 4), the same for local[1] and local[2].
# Everything lands in DIR (default bench-out/spark, ignored by git).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

out=bench-out/spark rows=10000 rounds=3 batch_tokens=8192 partitions=4 seed=1234 batch=32
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out=$2; shift 2 ;;
        --rows) rows=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --batch-tokens) batch_tokens=$2; shift 2 ;;
        --partitions) partitions=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench-spark.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

JAVA_HOME=${JAVA_HOME:-$(ls -d /usr/lib/jvm/temurin-25* 2>/dev/null | head -n1)}
export JAVA_HOME MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
python=${BERTJ_PYTHON:-/usr/bin/python3}
mkdir -p "$out"
out=$(cd "$out" && pwd)

echo "== machine"
{
    lscpu | grep -E '^(Model name|CPU\(s\))'
    echo "load average: $(cat /proc/loadavg)"
    "$JAVA_HOME/bin/java" -version 2>&1 | head -1
} | tee "$out/machine.txt"

echo "== build: target/bertj-spark.jar, the single-JVM runner (bench profile), Spark's class path"
mvn -q -B -Dstyle.color=never -Pspark,bench -DskipTests -Dmaven.javadoc.skip=true -Dmaven.source.skip=true package dependency:build-classpath \
    -Dmdep.outputFile=target/bench-classpath.txt -Dmdep.includeScope=test
mvn -q -B -Dstyle.color=never -Pspark dependency:build-classpath \
    -Dmdep.outputFile=target/spark-classpath.txt -Dmdep.includeScope=provided
api_cp="target/classes:target/test-classes:$(cat target/bench-classpath.txt)"
spark_cp="target/bertj-spark.jar:$(cat target/spark-classpath.txt)"
# What Spark's launcher gives driver and executor JVMs on JDK 17+ (org.apache.spark.launcher.JavaModuleOptions).
spark_jvm=(--add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow
    --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED
    --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
    --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED
    --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
    --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/sun.nio.cs=ALL-UNNAMED
    --add-opens=java.base/sun.security.action=ALL-UNNAMED --add-opens=java.base/sun.util.calendar=ALL-UNNAMED
    --add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED
    -Dio.netty.tryReflectionSetAccessible=true -Dio.netty.allocator.type=pooled)

echo "== corpus: $rows texts (seed $seed)"
"$python" - "$out" "$rows" "$seed" <<'EOF'
import json, random, sys
out, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = random.Random(seed)
subjects = ["The old mill", "A young engineer", "The city council", "Our neighbour's dog", "The river", "A group of students",
            "The orchestra", "My grandmother", "The ferry", "An astronomer"]
verbs = ["crossed", "repaired", "discussed", "photographed", "measured", "painted", "described", "ignored", "celebrated", "studied"]
objects = ["the stone bridge", "a broken violin", "the annual budget", "the northern lights", "three wooden boats",
           "the migrating geese", "a forgotten letter", "the harbour walls", "an empty theatre", "the winter festival"]
tails = ["", " yesterday", " in the rain", " before dawn", " with great care", " for the first time", " despite the noise",
         " near the station", ", which surprised everyone", " and then went home"]
def sentence(clauses):
    parts = []
    for c in range(clauses):
        s = r.choice(subjects)
        parts.append((s if c == 0 else s.lower()) + " " + r.choice(verbs) + " " + r.choice(objects) + r.choice(tails)
                     + (" in %d" % (1800 + r.randrange(220)) if r.randrange(5) == 0 else ""))
    return r.choice(["; ", ", and "]).join(parts) + "."
# Mostly short texts (queries, titles, single sentences), one in 25 a paragraph: a search corpus's mix.
texts = [sentence(6 + r.randrange(7) if r.randrange(25) == 0 else 1 + r.randrange(3)) for _ in range(n)]
with open(out + "/texts.txt", "w") as f:
    f.write("\n".join(texts) + "\n")
with open(out + "/texts.jsonl", "w") as f:
    for i, t in enumerate(texts):
        f.write(json.dumps({"id": i, "text": t}) + "\n")
EOF
size=$(stat -c %s "$out/texts.jsonl")
split_bytes=$(( size / partitions + 1 ))

rss() { # runs "$@", writes its peak RSS (MB) to $out/rss.last, or "-" without GNU time
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f '%M' -o "$out/rss.kb" "$@"
        echo $(( $(tail -1 "$out/rss.kb") / 1024 )) > "$out/rss.last"
    else
        "$@"
        echo - > "$out/rss.last"
    fi
}

run_api() { # $1 round
    rss "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx2g -cp "$api_cp" \
        bertj.bench.EmbedCorpus --texts "$out/texts.txt" --normalize --batch "$batch" > "$out/api.$1.log" 2>&1
    for o in given sorted; do
        sed -n "s/^api-$o: .*(\([0-9.]*\) rows\/s)$/\1/p" "$out/api.$1.log" | sed "s/^/api-$o $1 /;s/\$/ $(cat "$out/rss.last")/" >> "$out/results.txt"
    done
}

run_spark() { # $1 slots, $2 round
    rss "$JAVA_HOME/bin/java" "${spark_jvm[@]}" -Xmx2g -cp "$spark_cp" \
        -Dspark.driver.host=127.0.0.1 -Dspark.driver.bindAddress=127.0.0.1 -Dspark.ui.enabled=false \
        -Dspark.ui.showConsoleProgress=false -Dspark.sql.files.maxPartitionBytes="$split_bytes" \
        bertj.spark.SparkMain embed --master "local[$1]" --model minilm --normalize --input "$out/texts.jsonl" \
        --output "$out/embeddings-$1.parquet" --force --batch-tokens "$batch_tokens" > "$out/local$1.$2.log" 2>&1 \
        || { echo "bench-spark.sh: local[$1] failed; see $out/local$1.$2.log" >&2; tail -3 "$out/local$1.$2.log" >&2; exit 1; }
    grep '^bertj-spark: embedded' "$out/local$1.$2.log" | tail -1
    sed -n 's/^bertj-spark: embedded .*(\([0-9.]*\) rows\/s).*$/\1/p' "$out/local$1.$2.log" \
        | sed "s/^/local[$1] $2 /;s/\$/ $(cat "$out/rss.last")/" >> "$out/results.txt"
}

: > "$out/results.txt"
configs=(api spark1 spark2)
for ((round = 1; round <= rounds; round++)); do
    echo "== round $round of $rounds"
    for ((k = 0; k < ${#configs[@]}; k++)); do
        c=${configs[$(( (k + round - 1) % ${#configs[@]} ))]}
        case "$c" in
            api) run_api "$round"; cat "$out/api.$round.log" | grep '^api-' ;;
            spark1) run_spark 1 "$round" ;;
            spark2) run_spark 2 "$round" ;;
        esac
    done
done

echo "== rows/s, median of $rounds rounds ($rows texts, batch $batch for the API, --batch-tokens $batch_tokens and $partitions input splits for Spark)"
"$python" - "$out/results.txt" <<'EOF' | tee "$out/table.md"
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
by = {}
for name, rnd, rate, rss in rows:
    by.setdefault(name, []).append((float(rate), rss))
base = statistics.median(r for r, _ in by["api-given"])
print("| configuration | rows/s (median) | range | × api-given | peak RSS (MB) |")
print("|---|---|---|---|---|")
for name in ["api-given", "api-sorted", "local[1]", "local[2]"]:
    if name not in by: continue
    rates = [r for r, _ in by[name]]
    rss = max((int(x) for _, x in by[name] if x != "-"), default=None)
    m = statistics.median(rates)
    print(f"| {name} | {m:.1f} | {min(rates):.1f}–{max(rates):.1f} | {m / base:.2f} | {rss if rss is not None else '-'} |")
EOF
echo "load average after: $(cat /proc/loadavg)" | tee -a "$out/machine.txt"
