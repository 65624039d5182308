#!/usr/bin/env bash
# Embedding a corpus with all-MiniLM-L6-v2 (docs/performance.md; not part of the tests): 2 000 generated texts of
# mixed length (40% of 5-15 words, 40% of 30-120, 20% of 150-300), embedded in one interleaved run by
#   bertj-cli    ./bertj embed --input-file, one process per round (JVM start, model load, JIT warm-up counted)
#   bertj-api    bertj's SentenceEmbedder in the runner's JVM (warm)
#   langchain4j  AllMiniLmL6V2EmbeddingModel.embedAll with its defaults (warm)
#   ort          ONNX Runtime on bertj's tokens and length-grouped batches (warm)
# with texts/s, the ratio to langchain4j and the minimum cosine between each one's vectors and langchain4j's.
# Texts are cut at 128 tokens, as langchain4j cuts them, so that both see the same tokens.
#
#   scripts/bench-corpus.sh [--out DIR] [--texts N] [--rounds R] [--threads T] [--seed N]
#
# Everything lands in DIR (default bench-out/, ignored by git): corpus.txt, the texts one per line as `embed
# --input-file` reads them, and corpus-bench.txt, this run's report. Machines here are shared: compare the ratios
# measured in the same run, not absolute numbers across runs.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

out=bench-out texts=2000 rounds=3 threads=2 seed=1
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out=$2; shift 2 ;;
        --texts) texts=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "bench-corpus.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

. scripts/bench-lib.sh
mkdir -p "$out"
bench_machine
bench_build
bench_launcher
echo "== corpus: $texts texts, $rounds interleaved rounds, $threads threads"
"${java[@]}" bertj.bench.CorpusBench --out "$out" --bertj "$here/bertj" --texts "$texts" --rounds "$rounds" \
    --threads "$threads" --seed "$seed" 2>&1 | grep --line-buffered -v -E 'WARNING: Using incubator|^SLF4J' | tee "$out/corpus-bench.txt"
