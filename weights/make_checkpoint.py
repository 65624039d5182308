#!/usr/bin/env python3
"""Builds a random checkpoint in the exact format of NVIDIA's distilled BERT 4L-288D SQuAD checkpoint.

Keys follow NVIDIA DeepLearningExamples' modeling.py (BertForQuestionAnswering): `bert.` prefix,
`intermediate.dense_act` and `pooler.dense_act` (LinearActivation), `qa_outputs` (288 -> 2). The word table has
30528 rows (30522 padded to a multiple of 8). Saved with torch.save (zip format), optionally under "model".

Scales are chosen so that the model computes something non-trivial: linear weights ~ N(0, 1/in) so activations
keep unit scale and attention is neither uniform nor one-hot; non-zero biases; LayerNorm gamma ~ 1 + N(0, 0.05).
--padding-competes orients the QA head so that positions padded as NVIDIA pads them score above the text (for tests
of NVIDIA's decoding, which ranks padding).
"""
import argparse
import collections

import torch


def random_state_dict(seed, layers=4, hidden=288, intermediate=1152, vocab=30528, positions=512, types=2,
                      dtype=torch.float32, pooler=True, qa=True):
    g = torch.Generator().manual_seed(seed)

    def normal(*shape, std):
        return (torch.randn(*shape, generator=g, dtype=torch.float64) * std).to(dtype)

    def linear(prefix, out_f, in_f):
        sd[prefix + ".weight"] = normal(out_f, in_f, std=in_f ** -0.5)
        sd[prefix + ".bias"] = normal(out_f, std=0.05)

    def layer_norm(prefix, n):
        sd[prefix + ".weight"] = (1.0 + torch.randn(n, generator=g, dtype=torch.float64) * 0.05).to(dtype)
        sd[prefix + ".bias"] = normal(n, std=0.05)

    sd = collections.OrderedDict()
    sd["bert.embeddings.word_embeddings.weight"] = normal(vocab, hidden, std=0.5)
    sd["bert.embeddings.position_embeddings.weight"] = normal(positions, hidden, std=0.2)
    sd["bert.embeddings.token_type_embeddings.weight"] = normal(types, hidden, std=0.2)
    layer_norm("bert.embeddings.LayerNorm", hidden)
    for i in range(layers):
        p = f"bert.encoder.layer.{i}."
        for name in ("query", "key", "value"):
            linear(p + "attention.self." + name, hidden, hidden)
        linear(p + "attention.output.dense", hidden, hidden)
        layer_norm(p + "attention.output.LayerNorm", hidden)
        linear(p + "intermediate.dense_act", intermediate, hidden)
        linear(p + "output.dense", hidden, intermediate)
        layer_norm(p + "output.LayerNorm", hidden)
    if pooler:
        linear("bert.pooler.dense_act", hidden, hidden)
    if qa:
        linear("qa_outputs", 2, hidden)
    return sd


def favour_padding(sd, heads, seed, max_seq=384):
    """Negates qa_outputs' start and/or end row where needed so that, on a probe window padded to max_seq with id 0,
    segment 0, mask 0 (as NVIDIA's run_squad.py pads), the padded positions' mean logit exceeds the real tokens'.
    A random model puts padding above or below the text by chance; tests of NVIDIA's decoding, where padding ranks
    among the n-best positions, need it above. Returns the rows flipped."""
    import os
    import sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from torch_bert import TorchBert, canonical
    model = TorchBert({canonical(k): v.float() for k, v in sd.items()}, heads, "tanh")
    g = torch.Generator().manual_seed(seed)
    real = [101] + torch.randint(1000, 30000, (20,), generator=g).tolist() + [102]
    n = len(real)
    ids = torch.tensor([real + [0] * (max_seq - n)])
    mask = torch.tensor([[1] * n + [0] * (max_seq - n)])
    out = model(ids, torch.zeros_like(ids), mask)
    flipped = []
    for row, name in enumerate(("start", "end")):
        logits = out[name + "_logits"][0]
        if logits[n:].mean() < logits[:n].mean():
            for key in ("qa_outputs.weight", "qa_outputs.bias"):
                sd[key][row] = -sd[key][row]
            flipped.append(name)
    return flipped


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--under-model", action="store_true", help='save {"model": state_dict} as NGC files may')
    ap.add_argument("--module-prefix", action="store_true", help="prefix keys with 'module.' (DataParallel)")
    ap.add_argument("--dtype", choices=["float32", "float16", "bfloat16"], default="float32")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--hidden", type=int, default=288)
    ap.add_argument("--intermediate", type=int, default=1152)
    ap.add_argument("--vocab", type=int, default=30528)
    ap.add_argument("--positions", type=int, default=512)
    ap.add_argument("--padding-competes", action="store_true",
                    help="orient the QA head so that padded positions score above the text on average (see favour_padding)")
    ap.add_argument("--heads", type=int, default=12, help="attention heads, for --padding-competes")
    args = ap.parse_args()
    sd = random_state_dict(args.seed, args.layers, args.hidden, args.intermediate, args.vocab, args.positions,
                           dtype=getattr(torch, args.dtype))
    if args.padding_competes:
        print("padding competes: flipped", favour_padding(sd, args.heads, args.seed) or "nothing")
    if args.module_prefix:
        sd = collections.OrderedDict(("module." + k, v) for k, v in sd.items())
    torch.save({"model": sd} if args.under_model else sd, args.out)
    print(f"wrote {args.out}: {sum(t.numel() for t in sd.values()):,} parameters, seed {args.seed}")


if __name__ == "__main__":
    main()
