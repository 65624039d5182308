#!/usr/bin/env bash
# The cost of NVIDIA's decoding (docs/qa.md, not part of the tests): `bertj squad --decoding nvidia` (every window
# padded to --max-seq-length, 384) against `--decoding masked` (each batch padded to its longest window) on the same
# synthetic SQuAD-shaped file (weights/synthetic_squad.py), the same random NVIDIA-format 4L-288D checkpoint and
# backend, run alternately R rounds. Reports each run's seconds (squad --json: tokenization, forward passes and
# decoding; not the JVM start or the model load), the medians, the ratio nvidia / masked, and peak RSS.
#
#   scripts/bench-decoding.sh [--out DIR] [--passages P] [--questions-per Q] [--rounds R] [--backend B]
#                             [--batch N] [--model M.pt --vocab V]
#
# Everything lands in DIR (default bench-out/decoding, ignored by git). Machines here are shared: only the ratio
# measured in one run means much.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

out=bench-out/decoding passages=100 per=5 rounds=3 backend=cpu batch=16 model="" vocab="" seed=1234
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out=$2; shift 2 ;;
        --passages) passages=$2; shift 2 ;;
        --questions-per) per=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --backend) backend=$2; shift 2 ;;
        --batch) batch=$2; shift 2 ;;
        --model) model=$2; shift 2 ;;
        --vocab) vocab=$2; shift 2 ;;
        -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench-decoding.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
python=${BERTJ_PYTHON:-/usr/bin/python3}
mkdir -p "$out"
echo "load average: $(cat /proc/loadavg)" | tee "$out/machine.txt"

if [ -z "$vocab" ]; then
    # BERT's uncased vocabulary, as the built-in minilm model carries it (the same 30,522 entries NVIDIA uses)
    [ -s "$out/minilm/tokenizer.json" ] || ./bertj convert --model minilm --out "$out/minilm" >/dev/null
    vocab=$out/minilm/tokenizer.json
fi
[ -s "$vocab" ] || { echo "bench-decoding.sh: no vocabulary at $vocab" >&2; exit 1; }
if [ -z "$model" ]; then
    model=$out/bench.pt
    [ -s "$model" ] || "$python" weights/make_checkpoint.py --out "$model" --seed "$seed" >/dev/null
fi
data=$out/squad-$passages-$per.json
[ -s "$data" ] || "$python" weights/synthetic_squad.py --vocab "$vocab" --out "$data" --passages "$passages" --questions-per "$per"

run() { # $1: decoding, $2: round
    local log=$out/$1-$2
    /usr/bin/time -v ./bertj squad --model "$model" --vocab "$vocab" --data "$data" --out "$log.pred.json" --force \
        --backend "$backend" --batch "$batch" --decoding "$1" --json --progress none >"$log.json" 2>"$log.err"
    local rss; rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log.err")
    "$python" -c 'import json,sys; j=json.load(open(sys.argv[1])); print("%-7s round %s: %7.2f s  %d windows, %d tokens, padding among the best for %d of %d questions, %d empty, F1 %.2f, peak RSS %d MB" % (j["decoding"], sys.argv[2], j["seconds"], j["windows"], j["tokens"], j["padding_among_best"], j["questions"], j["empty"], j["f1"] or 0, int(sys.argv[3]) // 1024))' "$log.json" "$2" "$rss"
}
for r in $(seq 1 "$rounds"); do
    if [ $((r % 2)) -eq 1 ]; then run masked "$r"; run nvidia "$r"; else run nvidia "$r"; run masked "$r"; fi
done | tee "$out/runs.txt"
"$python" - "$out" "$rounds" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
t = {d: [json.load(open(f"{out}/{d}-{r}.json"))["seconds"] for r in range(1, rounds + 1)] for d in ("masked", "nvidia")}
j = json.load(open(f"{out}/nvidia-1.json"))
m, n = statistics.median(t["masked"]), statistics.median(t["nvidia"])
print(f"median: masked {m:.2f} s, nvidia {n:.2f} s; nvidia / masked = {n / m:.2f}x; "
      f"positions run: nvidia {j['windows'] * 384:,} (windows x 384) against {j['tokens']:,} real tokens")
PY
