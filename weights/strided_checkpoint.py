#!/usr/bin/env python3
"""Writes a torch.save file whose tensors are strided views sharing storages (transposed, offset, sliced,
expanded-then-contiguous), plus the same tensors made contiguous in a safetensors file, for reader tests."""
import argparse
import collections
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pt", required=True)
    ap.add_argument("--st", required=True)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    g = torch.Generator().manual_seed(args.seed)
    base = torch.randn(7, 5, generator=g)
    cube = torch.randn(3, 4, 6, generator=g, dtype=torch.float64)
    halves = torch.randn(10, generator=g).half()
    longs = torch.arange(24, dtype=torch.int64).reshape(4, 6)
    sd = collections.OrderedDict([
        ("transposed", base.t()),                       # stride (1, 5)
        ("offset_rows", base[2:]),                      # storage offset 10
        ("every_other_column", base[:, ::2]),           # stride (5, 2)
        ("permuted", cube.permute(2, 0, 1)),            # float64, stride (1, 24, 6)
        ("half_slice", halves[3:9]),                    # float16 with offset
        ("long_cols", longs[:, 1:4]),                   # int64, stride (6, 1), offset 1
        ("base", base),
    ])
    torch.save(sd, args.pt)
    safetensors_io.save(args.st, collections.OrderedDict((k, v.contiguous()) for k, v in sd.items()))


if __name__ == "__main__":
    main()
