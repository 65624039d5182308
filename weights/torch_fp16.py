#!/usr/bin/env python3
"""PyTorch in half precision on the same checkpoint: its error against float64, and (on a GPU) its speed.

The model is written with plain torch ops (F.embedding, F.linear, F.layer_norm, F.gelu, softmax attention), once,
and run three ways:
  float64          the oracle (checked against weights/reference.py's nn-module float64 outputs when given);
  cuda fp16        real PyTorch half precision: weights and activations torch.float16 on the GPU, attention by
                   F.scaled_dot_product_attention where it exists (fp16 inputs, fused kernel), else explicit ops;
  cpu fp16 stand-in  Debian's torch 1.13 has no fp16 kernels on the CPU ("not implemented for 'Half'"), so
                   weights are rounded to fp16 and every op computes in float32 and rounds its output to fp16 —
                   what a half tensor holds after each eager op. The attention is computed in float32 from the
                   rounded q, k, v and rounded once, like the fused GPU kernel. Reported as "cpu-fp16-standin".

  error: per-tensor relative L2 and max-abs error of the half run vs the float64 run on a reference file's inputs
         (embeddings, layer.i, start_logits, end_logits), plus start/end argmax agreement.
  bench: median milliseconds per batch of the cuda fp16 forward at each batch × seq (random full-length inputs),
         in the JSON shape of `bertj bench` ({backend, batch, seq, threads, seq_per_s, ms_per_batch_median});
         --compile times torch.compile's version of the same forward (Inductor, default mode; compile time
         reported apart as compile_s and never timed).
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
from torch_bert import load_state_dict  # noqa: E402


def num_layers(sd):
    return 1 + max(int(k.split(".")[2]) for k in sd if k.startswith("encoder.layer."))


def forward(w, ids, types, mask, heads, gelu, eps, rnd, fused_sdpa):
    """BERT with plain ops. w: canonical name -> tensor (already on the device, in the compute dtype).
    rnd(t) rounds an op's output to the storage precision (identity for float64 and for real fp16)."""
    b, s = ids.shape
    hidden = w["embeddings.word_embeddings.weight"].shape[1]
    d = hidden // heads
    dev = ids.device
    approx = "tanh" if gelu == "tanh" else "none"

    def ln(x, prefix):
        return rnd(F.layer_norm(x, (hidden,), w[prefix + ".weight"], w[prefix + ".bias"], eps))

    def lin(x, prefix):
        return rnd(F.linear(x, w[prefix + ".weight"], w[prefix + ".bias"]))

    positions = torch.arange(s, device=dev)
    h = rnd(rnd(F.embedding(ids, w["embeddings.word_embeddings.weight"])
                + F.embedding(positions, w["embeddings.position_embeddings.weight"])[None])
            + F.embedding(types, w["embeddings.token_type_embeddings.weight"]))
    h = ln(h, "embeddings.LayerNorm")
    out = {"embeddings": h}
    additive = ((1.0 - mask.to(h.dtype)) * -10000.0)[:, None, None, :]  # [B, 1, 1, S]

    def split(x):  # [B, S, H] -> [B, heads, S, d]
        return x.reshape(b, s, heads, d).permute(0, 2, 1, 3)

    for i in range(num_layers(w)):
        p = f"encoder.layer.{i}."
        q, k, v = (split(lin(h, p + "attention.self." + n)) for n in ("query", "key", "value"))
        if fused_sdpa:
            ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=additive.to(q.dtype))
        else:
            # float32/64 softmax attention from the (rounded) q, k, v, rounded once: the fused kernels' numerics
            qf, kf, vf = (t.to(torch.float64 if h.dtype == torch.float64 else torch.float32) for t in (q, k, v))
            scores = qf @ kf.transpose(-1, -2) / math.sqrt(d) + additive.to(qf.dtype)
            ctx = torch.softmax(scores, dim=-1) @ vf
        ctx = rnd(ctx.to(h.dtype)).permute(0, 2, 1, 3).reshape(b, s, hidden)
        a = ln(rnd(lin(ctx, p + "attention.output.dense") + h), p + "attention.output.LayerNorm")
        inter = rnd(F.gelu(lin(a, p + "intermediate.dense"), approximate=approx))
        h = ln(rnd(lin(inter, p + "output.dense") + a), p + "output.LayerNorm")
        out[f"layer.{i}"] = h
    if "qa_outputs.weight" in w:
        logits = lin(h, "qa_outputs")
        out["start_logits"] = logits[..., 0]
        out["end_logits"] = logits[..., 1]
    return out


def prepare(sd, dtype, device, round_weights_to_half=False):
    w = {}
    for k, v in sd.items():
        t = v.to(torch.float64)
        if round_weights_to_half:
            t = t.half().to(torch.float64)
        w[k] = t.to(device=device, dtype=dtype)
    return w


def half_run(sd, device):
    """(weights, rnd, fused, label) for the half-precision run on `device`."""
    if device == "cuda":
        fused = hasattr(F, "scaled_dot_product_attention")
        return prepare(sd, torch.float16, "cuda"), (lambda t: t), fused, "cuda-fp16"
    return (prepare(sd, torch.float32, "cpu", round_weights_to_half=True),
            (lambda t: t.half().float()), False, "cpu-fp16-standin")


def agreement(actual, expected, mask, tie=0.01):
    """Fraction of rows with the same argmax over unpadded positions; near-ties as bertj.parity.Tolerance."""
    same = 0
    for b in range(expected.shape[0]):
        m = mask[b].bool()
        e, a = expected[b][m], actual[b][m]
        best, mine = int(e.argmax()), int(a.argmax())
        if best == mine or e[best] - e[mine] <= tie * e.pow(2).mean().sqrt():
            same += 1
    return same / expected.shape[0]


def cmd_error(args):
    sd = load_state_dict(args.model)
    ref, meta = safetensors_io.load(args.reference)
    ids, types, mask = ref["input_ids"], ref["token_type_ids"], ref["attention_mask"]
    gelu = args.gelu or meta.get("gelu", "tanh")
    oracle = forward(prepare(sd, torch.float64, "cpu"), ids, types, mask, args.heads, gelu, 1e-12, lambda t: t, False)
    check = {}
    for name, t in ref.items():
        if name in oracle and t.dtype == torch.float64:
            check[name] = float((oracle[name] - t).abs().max())
    if check:
        print(f"float64 plain-op model vs {os.path.basename(args.reference)} (nn modules): max abs "
              f"{max(check.values()):.2e}")
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    w, rnd, fused, label = half_run(sd, device)
    with torch.no_grad():
        half = forward(w, ids.to(device), types.to(device), mask.to(device), args.heads, gelu, 1e-12, rnd, fused)
    rows = []
    print(f"{label} vs float64 ({'scaled_dot_product_attention' if fused else 'float attention from half q, k, v'}), "
          f"batch {ids.shape[0]} x seq {ids.shape[1]}, torch {torch.__version__}")
    print(f"{'tensor':<14} {'max_abs':>10} {'rel_l2':>10}")
    for name, e in oracle.items():
        a = half[name].double().cpu()
        diff = a - e
        rel = float(diff.norm() / e.norm())
        mx = float(diff.abs().max())
        rows.append({"name": name, "max_abs": mx, "rel_l2": rel})
        print(f"{name:<14} {mx:10.3e} {rel:10.3e}")
    result = {"label": label, "torch": torch.__version__, "device": device,
              "gpu": torch.cuda.get_device_name(0) if device == "cuda" else None,
              "attention": "sdpa" if fused else "explicit", "batch": int(ids.shape[0]), "seq": int(ids.shape[1]),
              "oracle_vs_reference_max_abs": max(check.values()) if check else None, "tensors": rows}
    if "start_logits" in oracle:
        result["argmax_agreement"] = {n: agreement(half[n].double().cpu(), oracle[n], mask)
                                      for n in ("start_logits", "end_logits")}
        print("argmax agreement (near-ties within 1% of the row's logit RMS agree): "
              + ", ".join(f"{k} {v:.4f}" for k, v in result["argmax_agreement"].items()))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    if args.write_float64:
        # The float64 oracle in weights/reference.py's format, on the same inputs, for `bertj parity`.
        tensors = {"input_ids": ids, "token_type_ids": types, "attention_mask": mask}
        tensors.update({k: v.contiguous() for k, v in oracle.items()})
        safetensors_io.save(args.write_float64, tensors, {
            "producer": "weights/torch_fp16.py (plain-op float64 model)", "torch": torch.__version__, "dtype": "float64",
            "gelu": gelu, "model": os.path.basename(args.model), "inputs": os.path.basename(args.reference)})
        print(f"wrote {args.write_float64}: float64 outputs on the same inputs")


def cmd_bench(args):
    if args.device == "cuda" and not torch.cuda.is_available():
        print("bench: no CUDA device; PyTorch fp16 is only timed on a GPU (Debian's CPU torch has no fp16 kernels)",
              file=sys.stderr)
        return 1
    dev = args.device
    sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)
    sd = load_state_dict(args.model)
    w, rnd, fused, label = half_run(sd, dev)
    vocab = min(30522, sd["embeddings.word_embeddings.weight"].shape[0])
    gelu = args.gelu or "tanh"

    def fwd(ids, types, mask):
        return forward(w, ids, types, mask, args.heads, gelu, 1e-12, rnd, fused)

    if args.compile:
        if not hasattr(torch, "compile"):
            print(f"bench: torch {torch.__version__} has no torch.compile (2.0 or later has)", file=sys.stderr)
            return 1
        fwd = torch.compile(fwd, dynamic=args.dynamic)
        label += "-compile"
    results = []
    g = torch.Generator().manual_seed(0)
    for batch in [int(x) for x in args.batch.split(",")]:
        for seq in [int(x) for x in args.seq.split(",")]:
            ids = torch.randint(999, vocab, (batch, seq), generator=g).to(dev)
            types = torch.zeros(batch, seq, dtype=torch.int64).to(dev)
            mask = torch.ones(batch, seq, dtype=torch.int64).to(dev)
            times = []
            with torch.no_grad():
                c0 = time.perf_counter()
                fwd(ids, types, mask)  # with --compile: compiles for this shape (or reuses a dynamic graph)
                sync()
                compile_s = time.perf_counter() - c0
                for _ in range(3):
                    fwd(ids, types, mask)
                sync()
                start = time.perf_counter()
                while len(times) < args.max_iters and (len(times) < args.min_iters or time.perf_counter() - start < args.seconds):
                    t0 = time.perf_counter()
                    out = fwd(ids, types, mask)
                    out["start_logits"].float().cpu()  # the result on the host, as bertj's read does
                    sync()
                    times.append((time.perf_counter() - t0) * 1000)
            ms = statistics.median(times)
            r = {"backend": "pytorch-" + label + ("-sdpa" if fused else ""), "batch": batch, "seq": seq, "threads": None,
                 "seq_per_s": batch / (ms / 1000), "ms_per_batch_median": ms, "iterations": len(times),
                 "gpu": torch.cuda.get_device_name(0) if dev == "cuda" else None, "torch": torch.__version__}
            if args.compile:
                r["compile_s"] = compile_s
                r["dynamic"] = args.dynamic
            results.append(r)
            print(json.dumps(r), flush=True)
            if args.json:  # written after every shape, so that a run cut short by its timeout keeps what it measured
                with open(args.json, "w") as f:
                    json.dump(results, f, indent=2)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("error", help="per-tensor error of PyTorch half precision vs float64 on a reference's inputs")
    e.add_argument("--model", required=True)
    e.add_argument("--reference", required=True, help="a weights/reference.py file (its inputs; its outputs if float64)")
    e.add_argument("--heads", type=int, default=12)
    e.add_argument("--gelu", choices=["tanh", "erf"])
    e.add_argument("--device", choices=["cuda", "cpu"])
    e.add_argument("--json")
    e.add_argument("--write-float64", metavar="PATH", help="also save the float64 outputs as a parity reference")
    b = sub.add_parser("bench", help="time the cuda fp16 forward")
    b.add_argument("--model", required=True)
    b.add_argument("--heads", type=int, default=12)
    b.add_argument("--gelu", choices=["tanh", "erf"])
    b.add_argument("--batch", default="1,32,128")
    b.add_argument("--seq", default="128,384")
    b.add_argument("--device", choices=["cuda", "cpu"], default="cuda",
                   help="cpu times the fp16 stand-in (a dry run of this script, not a PyTorch fp16 figure)")
    b.add_argument("--seconds", type=float, default=2.0, help="time each shape for about this long")
    b.add_argument("--min-iters", type=int, default=5)
    b.add_argument("--max-iters", type=int, default=200)
    b.add_argument("--compile", action="store_true", help="time torch.compile(forward) instead of eager")
    b.add_argument("--dynamic", action="store_true",
                   help="with --compile: one dynamic-shape graph for every shape (fewer compiles, maybe slower kernels)")
    b.add_argument("--json")
    args = ap.parse_args()
    if args.cmd == "error":
        cmd_error(args)
        return 0
    return cmd_bench(args)


if __name__ == "__main__":
    sys.exit(main())
