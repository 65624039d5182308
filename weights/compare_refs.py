#!/usr/bin/env python3
"""Compares the outputs of two reference files (e.g. PyTorch float32 vs float64): max-abs and relative L2 per tensor."""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

INPUTS = {"input_ids", "token_type_ids", "attention_mask"}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("actual")
    ap.add_argument("expected")
    args = ap.parse_args()
    a, _ = safetensors_io.load(args.actual)
    e, _ = safetensors_io.load(args.expected)
    for k in INPUTS:
        if not torch.equal(a[k], e[k]):
            sys.exit(f"{k} differs: the files were computed on different inputs")
    print(f"{'tensor':16s} {'max_abs':>10s} {'rel_l2':>10s}")
    for name, ev in e.items():
        if name in INPUTS or name not in a:
            continue
        d = a[name].double() - ev.double()
        rel = d.norm() / ev.double().norm()
        print(f"{name:16s} {d.abs().max().item():10.3e} {rel.item():10.3e}")


if __name__ == "__main__":
    main()
