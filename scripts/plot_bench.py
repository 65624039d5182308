#!/usr/bin/env python3
"""Draws the sweep of scripts/bench-cpu.sh --sweep: cost against sequence length and batch size.

  plot_bench.py SWEEP.json OUT.png

Left: milliseconds per sequence at batch 1 against sequence length (the attention term grows as S², the rest
as S). Right: microseconds per token at sequence length 128 against batch size. Needs python3-matplotlib
(Debian); only the benchmark uses it, never the tests.
"""
import json
import sys

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    sys.exit("plot_bench.py: needs matplotlib (apt-get install python3-matplotlib)")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[2].strip())
    data = json.load(open(sys.argv[1]))
    rows = data["results"]
    engines = sorted({r["engine"] for r in rows}, key=lambda e: ["bertj", "ort", "ort-fused", "torch"].index(e))
    labels = {"bertj": "bertj cpu (float32)", "ort": "ONNX Runtime (torch export)",
              "ort-fused": "ONNX Runtime (fused contrib ops)", "torch": "PyTorch 1.13 + OpenBLAS"}
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    for e in engines:
        seq = sorted((r["seq"], r["ms_per_batch_median"]) for r in rows if r["engine"] == e and r["batch"] == 1)
        if seq:
            a.plot([s for s, _ in seq], [m for _, m in seq], marker="o", label=labels.get(e, e))
        bat = sorted((r["batch"], r["ms_per_batch_median"] * 1e3 / (r["batch"] * r["seq"]))
                     for r in rows if r["engine"] == e and r["seq"] == 128)
        if bat:
            b.plot([x for x, _ in bat], [y for _, y in bat], marker="o", label=labels.get(e, e))
    a.set_xlabel("sequence length (batch 1)")
    a.set_ylabel("ms per sequence (median)")
    a.set_title("cost against sequence length")
    a.grid(alpha=0.3)
    a.legend()
    b.set_xscale("log", base=2)
    b.set_xlabel("batch size (seq 128)")
    b.set_ylabel("µs per token (median)")
    b.set_title("cost per token against batch size")
    b.grid(alpha=0.3)
    fig.suptitle(f"4L-288D forward pass, {data['threads']} threads, {data['rounds']} interleaved rounds "
                 f"(load average {data['load_average_start'].split()[0]} at start)", fontsize=10)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)
    print("wrote", sys.argv[2])


if __name__ == "__main__":
    main()
