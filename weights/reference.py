#!/usr/bin/env python3
"""Computes reference outputs of a checkpoint with PyTorch's own modules and writes them for `bertj parity`.

The file (safetensors) holds inputs input_ids, token_type_ids, attention_mask (I64 [B, S]) and outputs
embeddings, layer.{i} ([B, S, H]), start_logits, end_logits ([B, S]) in float32 or float64. The batch has
padded rows: sequence b is real up to its length and padding (id 0, mask 0) after it.
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
from torch_bert import TorchBert, load_state_dict  # noqa: E402

CLS, SEP = 101, 102


def random_inputs(seed, batch, seq, vocab=30522, types=2):
    """[CLS] segment A [SEP] segment B [SEP] then padding; lengths from full down to a single token."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.zeros(batch, seq, dtype=torch.int64)
    type_ids = torch.zeros(batch, seq, dtype=torch.int64)
    mask = torch.zeros(batch, seq, dtype=torch.int64)
    for b in range(batch):
        length = seq if b == 0 else (1 if b == batch - 1 and batch > 2 else
                                     int(torch.randint(2, seq + 1, (1,), generator=g)))
        ids[b, :length] = torch.randint(999, vocab, (length,), generator=g)
        ids[b, 0] = CLS
        if length > 1:
            ids[b, length - 1] = SEP
            split = int(torch.randint(1, length, (1,), generator=g))
            if split < length - 1:
                ids[b, split] = SEP
                if types > 1:
                    type_ids[b, split + 1:length] = 1
        mask[b, :length] = 1
    return ids, type_ids, mask


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="torch.save checkpoint (state dict, possibly under 'model')")
    ap.add_argument("--out", required=True)
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    ap.add_argument("--gelu", choices=["tanh", "erf"], default="tanh")
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=64)
    args = ap.parse_args()

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    dtype = getattr(torch, args.dtype)
    sd = load_state_dict(args.model)
    sd = {k: v.to(dtype) for k, v in sd.items()}
    model = TorchBert(sd, args.heads, args.gelu).to(dtype)
    vocab = min(30522, sd["embeddings.word_embeddings.weight"].shape[0])
    types = sd["embeddings.token_type_embeddings.weight"].shape[0]
    ids, type_ids, mask = random_inputs(args.seed, args.batch, args.seq, vocab, types)
    out = model(ids, type_ids, mask)
    tensors = {"input_ids": ids, "token_type_ids": type_ids, "attention_mask": mask}
    tensors.update(out)
    safetensors_io.save(args.out, tensors, {
        "producer": "weights/reference.py", "torch": torch.__version__, "dtype": args.dtype, "gelu": args.gelu,
        "seed": args.seed, "model": os.path.basename(args.model)})
    print(f"wrote {args.out}: {args.dtype}, batch {args.batch} x seq {args.seq}, gelu {args.gelu}, seed {args.seed}")


if __name__ == "__main__":
    main()
