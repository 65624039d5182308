#!/usr/bin/env python3
"""PyTorch side of scripts/bench-cpu.sh: times TorchBert (weights/torch_bert.py) on request, so that the Java
benchmark runner can interleave PyTorch with bertj and ONNX Runtime in one run.

Reads commands on stdin, answers one JSON line each on stdout:
  time B S CALLS SECONDS SEED   one warm-up forward, then timed forwards on random full-length inputs until
                                at least CALLS calls and SECONDS seconds: {"ms": [...]}
  check PATH                    forward on the inputs of a safetensors file (input_ids, token_type_ids,
                                attention_mask): {"start_logits": [...], "end_logits": [...]} (flattened)
  quit
The model runs as weights/reference.py runs it (float32, the float padding mask, eval mode, no grad).
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
from torch_bert import TorchBert, load_state_dict  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--gelu", choices=["tanh", "erf"], default="tanh")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    sd = load_state_dict(args.model)
    model = TorchBert(sd, args.heads, args.gelu)
    vocab = sd["embeddings.word_embeddings.weight"].shape[0]
    types = sd["embeddings.token_type_embeddings.weight"].shape[0]
    torch.ones(64, 64) @ torch.ones(64, 64)  # loads the BLAS library
    with open("/proc/self/maps") as maps:
        blas = sorted({line.split("/")[-1].strip() for line in maps if "blas" in line.lower()})
    info = {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas}
    print(json.dumps({"ready": info}), flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "quit":
            break
        if cmd[0] == "time":
            b, s, calls, seconds, seed = int(cmd[1]), int(cmd[2]), int(cmd[3]), float(cmd[4]), int(cmd[5])
            g = torch.Generator().manual_seed(seed)
            ids = torch.randint(0, vocab, (b, s), generator=g)
            type_ids = torch.randint(0, types, (b, s), generator=g)
            mask = torch.ones(b, s, dtype=torch.int64)
            model(ids, type_ids, mask)
            ms, start = [], time.perf_counter()
            while len(ms) < calls or time.perf_counter() - start < seconds:
                t0 = time.perf_counter()
                model(ids, type_ids, mask)
                ms.append((time.perf_counter() - t0) * 1e3)
            print(json.dumps({"ms": ms}), flush=True)
        elif cmd[0] == "check":
            t, _ = safetensors_io.load(cmd[1])
            out = model(t["input_ids"].long(), t["token_type_ids"].long(), t["attention_mask"].long())
            print(json.dumps({"start_logits": out["start_logits"].flatten().tolist(),
                              "end_logits": out["end_logits"].flatten().tolist()}), flush=True)
        else:
            print(json.dumps({"error": "unknown command " + cmd[0]}), flush=True)


if __name__ == "__main__":
    main()
