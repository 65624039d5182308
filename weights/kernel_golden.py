#!/usr/bin/env python3
"""Golden vectors for the OpenCL kernels, computed by PyTorch's own functional ops in float64.

Every input is drawn in float64 and rounded to float16 (x.half().double()), so that the kernels (which read
half) and PyTorch see exactly the same numbers; the outputs are float64. kernels-tests' PyTorchGoldenTest runs
each kernel on these inputs and checks it against these outputs with the kernel's own tolerance, and checks the
Java float64 reference op against them to ~1e-12 — the three implementations of each op agree.

Cases (tensor names in the file):
  linear.*      x [M, K], w [N, K], b [N] -> y_none = F.linear, y_gelu_tanh, y_gelu_erf = F.gelu(y_none, ...)
  attention.*   q, k, v [B*S, H], mask [B*S] (int64, 1 real / 0 padding), heads, -> probs [B, heads, S, S], ctx [B*S, H]
                scores = q kᵀ / √d − 10000 · (1 − mask), probs = softmax(scores), ctx = probs v
  layernorm.*   x, residual [R, H], gamma, beta [H] -> out = F.layer_norm(x + residual, (H,), gamma, beta, 1e-12)
  embeddings.*  word [V, H], position [P, H], token_type [T, H], ids, types [B*S], gamma, beta, seq ->
                out = F.layer_norm(word[ids] + position[t mod S] + token_type[types])
"""
import argparse
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, required=True)
    args = ap.parse_args()
    g = torch.Generator().manual_seed(args.seed)

    def half(*shape, mean=0.0, std=1.0):
        return (mean + std * torch.randn(*shape, generator=g, dtype=torch.float64)).half().double()

    t = {}
    # Matrix multiply + bias + GELU: sizes that are no tile's multiple.
    m, n, k = 70, 130, 96
    x, w, b = half(m, k), half(n, k, std=math.sqrt(3.0 / k)), half(n, std=0.5)
    y = F.linear(x, w, b)
    t.update({"linear.x": x, "linear.w": w, "linear.b": b, "linear.y_none": y,
              "linear.y_gelu_tanh": F.gelu(y, approximate="tanh"), "linear.y_gelu_erf": F.gelu(y)})

    # Attention with padded sequences (lengths S, 20 and 1).
    bsz, s, heads, d = 3, 37, 3, 24
    hidden = heads * d
    q, kk, v = half(bsz * s, hidden, std=2.0), half(bsz * s, hidden), half(bsz * s, hidden)
    mask = torch.zeros(bsz, s, dtype=torch.int64)
    for i, length in enumerate((s, 20, 1)):
        mask[i, :length] = 1

    def heads_first(a):  # [B*S, H] -> [B, heads, S, d]
        return a.reshape(bsz, s, heads, d).permute(0, 2, 1, 3)

    scores = heads_first(q) @ heads_first(kk).transpose(-1, -2) / math.sqrt(d)
    scores = scores + (1.0 - mask.double())[:, None, None, :] * -10000.0
    probs = torch.softmax(scores, dim=-1)
    ctx = (probs @ heads_first(v)).permute(0, 2, 1, 3).reshape(bsz * s, hidden)
    t.update({"attention.q": q, "attention.k": kk, "attention.v": v, "attention.mask": mask.reshape(-1),
              "attention.shape": torch.tensor([bsz, s, heads, d], dtype=torch.int64),
              "attention.probs": probs.contiguous(), "attention.ctx": ctx.contiguous()})

    # Residual add + LayerNorm.
    rows, h = 50, 288
    lx, lr = half(rows, h), half(rows, h)
    gamma, beta = half(h, mean=1.0, std=0.1), half(h, std=0.1)
    t.update({"layernorm.x": lx, "layernorm.residual": lr, "layernorm.gamma": gamma, "layernorm.beta": beta,
              "layernorm.out": F.layer_norm(lx + lr, (h,), gamma, beta, eps=1e-12)})

    # Embeddings: gather + sum + LayerNorm.
    vocab, positions, types, eb, es = 500, 64, 2, 2, 40
    word, pos, typ = half(vocab, h, std=0.5), half(positions, h, std=0.2), half(types, h, std=0.2)
    ids = torch.randint(0, vocab, (eb * es,), generator=g)
    tt = torch.randint(0, types, (eb * es,), generator=g)
    eg, ebeta = half(h, mean=1.0, std=0.1), half(h, std=0.1)
    z = F.embedding(ids, word) + F.embedding(torch.arange(eb * es) % es, pos) + F.embedding(tt, typ)
    t.update({"embeddings.word": word, "embeddings.position": pos, "embeddings.token_type": typ,
              "embeddings.ids": ids, "embeddings.types": tt, "embeddings.gamma": eg, "embeddings.beta": ebeta,
              "embeddings.shape": torch.tensor([eb, es], dtype=torch.int64),
              "embeddings.out": F.layer_norm(z, (h,), eg, ebeta, eps=1e-12)})

    safetensors_io.save(args.out, t, {"producer": "weights/kernel_golden.py", "torch": torch.__version__,
                                      "seed": args.seed})
    print(f"wrote {args.out}: golden vectors for linear+GELU, attention, layernorm, embeddings (seed {args.seed})")


if __name__ == "__main__":
    main()
