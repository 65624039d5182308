#!/usr/bin/env bash
# Start-up of the command line (docs/performance.md; not part of the tests): whole processes, each started fresh,
# in interleaved rounds —
#   bertj-1      ./bertj embed --model minilm "hello world"           (JVM start, model and vocabulary, one pass, output)
#   bertj-171    ./bertj embed --model minilm with a text of 171 characters
#   serve-ready  ./bertj serve --model minilm, from the start to its "ready on" line on stderr, then stopped
#   lc4j-1       a fresh JVM making langchain4j's AllMiniLmL6V2EmbeddingModel and embedding "hello world"
#                (bertj.bench.Lc4jOnce: what a Java user runs today; ONNX Runtime, the same model)
#   lc4j-171     the same with the 171-character text
# with the median wall time, CPU time (user + system) and peak RSS of each, and bertj's wall time as a ratio to
# langchain4j's, per round and as the median of those.
#
#   scripts/bench-startup.sh [--out DIR] [--rounds R]
#
# Everything lands in DIR (default bench-out/, ignored by git). Machines here are shared: compare the ratios
# measured in the same run, not absolute numbers across runs.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
out=bench-out rounds=8
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "bench-startup: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
. scripts/bench-lib.sh
mkdir -p "$out"
bench_machine
bench_build
bench_launcher
echo "== start-up: $rounds interleaved rounds"
"$python" - "$out" "$rounds" "$here/bertj" "${java[@]}" <<'PY' | tee "$out/startup.txt"
import os, re, signal, socket, statistics, subprocess, sys, time
out, rounds, bertj, java = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
t171 = ("A short query about how attention in a small transformer encoder turns token vectors into sentence "
        "embeddings, and what mean pooling does to them before a cosine is taken.")
assert len(t171) == 171

def run(cmd):
    """Wall seconds, CPU seconds and peak RSS (MB) of one process, which must succeed."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit("bench-startup: %s exited with %d: %s" % (cmd[:3], p.returncode, err.decode()[-500:]))
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024

def serve_ready():
    """Seconds from starting `bertj serve --model minilm` to its "ready on" line; then it is stopped (SIGTERM)."""
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    t0 = time.monotonic()
    p = subprocess.Popen([bertj, "serve", "--model", "minilm", "--port", str(port)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = None
    for line in p.stderr:
        if "ready on" in line:
            wall = time.monotonic() - t0
            break
    p.send_signal(signal.SIGTERM)
    p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    if wall is None:
        sys.exit("bench-startup: bertj serve never said it was ready (exit %d)" % os.waitstatus_to_exitcode(status))
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024

engines = {
    "bertj-1": lambda: run([bertj, "embed", "--model", "minilm", "hello world"]),
    "lc4j-1": lambda: run(java + ["bertj.bench.Lc4jOnce", "hello world"]),
    "bertj-171": lambda: run([bertj, "embed", "--model", "minilm", t171]),
    "lc4j-171": lambda: run(java + ["bertj.bench.Lc4jOnce", t171]),
    "serve-ready": serve_ready,
}
results = {k: [] for k in engines}
for r in range(rounds):
    for name, f in engines.items():
        results[name].append(f())
    print("round %d/%d done, load average %s" % (r + 1, rounds, open("/proc/loadavg").read().strip()), flush=True)

print()
print("%-12s %9s %9s %9s   %s" % ("run", "wall s", "CPU s", "RSS MB", "bertj / lc4j wall (min..max)"))
for name, rs in results.items():
    ratio = ""
    if name.startswith("bertj-"):
        peer = results["lc4j-" + name.split("-")[1]]
        per = [a[0] / b[0] for a, b in zip(rs, peer)]
        ratio = "%.2fx (%.2f..%.2f)" % (statistics.median(per), min(per), max(per))
    print("%-12s %9.2f %9.2f %9.0f   %s" % (name, statistics.median(x[0] for x in rs), statistics.median(x[1] for x in rs),
                                           statistics.median(x[2] for x in rs), ratio))
print("medians of %d rounds; each run is a new process (bertj through its launcher, with its start-up cache)." % rounds)
PY
