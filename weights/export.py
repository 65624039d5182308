#!/usr/bin/env python3
"""Exports a checkpoint as a Hugging Face style directory: model.safetensors + config.json.

Keys become Hugging Face BertForQuestionAnswering spellings (`bert.` prefix kept, `dense_act` -> `dense`);
hidden_act records the GELU form ("gelu_new" = tanh approximation, "gelu" = erf).
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
from torch_bert import canonical  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True, help="directory to create")
    ap.add_argument("--gelu", choices=["tanh", "erf"], default="tanh")
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--bin", action="store_true", help="write pytorch_model.bin (torch.save) instead of safetensors")
    args = ap.parse_args()
    obj = torch.load(args.model, map_location="cpu", weights_only=True)
    if isinstance(obj, dict) and isinstance(obj.get("model"), dict):
        obj = obj["model"]
    sd = {}
    for k, v in obj.items():
        c = canonical(k)
        sd[c if c.startswith("qa_outputs.") else "bert." + c] = v.contiguous()
    os.makedirs(args.out, exist_ok=True)
    if args.bin:
        torch.save(sd, os.path.join(args.out, "pytorch_model.bin"))
    else:
        safetensors_io.save(os.path.join(args.out, "model.safetensors"), sd, {"format": "pt"})
    word = sd["bert.embeddings.word_embeddings.weight"]
    layers = 1 + max(int(k.split(".")[3]) for k in sd if k.startswith("bert.encoder.layer."))
    config = {
        "architectures": ["BertForQuestionAnswering"], "model_type": "bert",
        "vocab_size": word.shape[0], "hidden_size": word.shape[1], "num_hidden_layers": layers,
        "num_attention_heads": args.heads,
        "intermediate_size": sd["bert.encoder.layer.0.intermediate.dense.weight"].shape[0],
        "hidden_act": "gelu_new" if args.gelu == "tanh" else "gelu",
        "max_position_embeddings": sd["bert.embeddings.position_embeddings.weight"].shape[0],
        "type_vocab_size": sd["bert.embeddings.token_type_embeddings.weight"].shape[0],
        "layer_norm_eps": 1e-12,
    }
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    print(f"wrote {args.out}: {len(sd)} tensors, hidden_act {config['hidden_act']}")


if __name__ == "__main__":
    main()
