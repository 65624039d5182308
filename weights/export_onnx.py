#!/usr/bin/env python3
"""Exports a checkpoint's QA model to ONNX (for the ONNX Runtime side of scripts/bench-cpu.sh).

Two graphs of the same weights and math; inputs input_ids, token_type_ids, attention_mask (int64 [batch, seq]),
outputs start_logits, end_logits ([batch, seq]), batch and seq dynamic:

  --graph torch (default)  torch.onnx.export of a plain-torch BERT written the way Hugging Face's
                           modeling_bert.py computes it (separate q/k/v projections, per-head matmuls, additive
                           -10000 mask, gelu_new, post-LayerNorm). ONNX Runtime's own graph optimiser then fuses
                           what it recognises (LayerNormalization, FastGelu, scaled MatMuls).
  --graph fused            the graph ONNX Runtime's offline transformer optimiser aims at, built directly from
                           its contrib ops (com.microsoft EmbedLayerNormalization, Attention with packed QKV,
                           SkipLayerNormalization, FastGelu / BiasGelu): ONNX Runtime's fastest CPU path for BERT.
                           (onnxruntime's Python optimiser is not installable here; its runtime Attention fusion
                           does not match a torch 1.13 export.)

Before writing, the plain-torch model is checked against weights/torch_bert.py's TorchBert (PyTorch's own
modules) on random inputs with padding: the two must agree to 1e-4, or nothing is written. The fused graph is
checked against the others by the benchmark itself (its logits must agree before anything is timed).
"""
import argparse
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_bert import TorchBert, load_state_dict  # noqa: E402
from reference import random_inputs  # noqa: E402


class PlainBert(nn.Module):
    """BERT QA from nn.Linear / F.layer_norm / matmul / softmax, with the checkpoint's tensors as parameters."""

    def __init__(self, sd, heads, gelu, eps=1e-12):
        super().__init__()
        self.heads, self.gelu, self.eps = heads, gelu, eps
        self.hidden = int(sd["embeddings.word_embeddings.weight"].shape[1])  # a Python int: traced as a constant
        self.layers = 1 + max(int(k.split(".")[2]) for k in sd if k.startswith("encoder.layer."))
        self.p = nn.ParameterDict({k.replace(".", "_"): nn.Parameter(v.clone(), requires_grad=False) for k, v in sd.items()})

    def w(self, name):
        return self.p[name.replace(".", "_")]

    def ln(self, x, prefix):
        return F.layer_norm(x, (self.hidden,), self.w(prefix + ".weight"), self.w(prefix + ".bias"), self.eps)

    def lin(self, x, prefix):
        return F.linear(x, self.w(prefix + ".weight"), self.w(prefix + ".bias"))

    def act(self, x):
        if self.gelu == "erf":
            return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))
        # Hugging Face's gelu_new, written so: ONNX Runtime fuses this pattern into FastGelu
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))

    def forward(self, input_ids, token_type_ids, attention_mask):
        seq = input_ids.shape[1]
        positions = torch.arange(seq, device=input_ids.device).unsqueeze(0)
        h = (F.embedding(input_ids, self.w("embeddings.word_embeddings.weight"))
             + F.embedding(positions, self.w("embeddings.position_embeddings.weight"))
             + F.embedding(token_type_ids, self.w("embeddings.token_type_embeddings.weight")))
        h = self.ln(h, "embeddings.LayerNorm")
        hidden = self.hidden
        d = hidden // self.heads
        # [batch, 1, 1, seq]: 0 for real tokens, -10000 for padding
        mask = (1.0 - attention_mask[:, None, None, :].to(h.dtype)) * -10000.0
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def heads(x):
                return x.view(x.size()[:-1] + (self.heads, d)).permute(0, 2, 1, 3)

            q = heads(self.lin(h, p + "attention.self.query"))
            k = heads(self.lin(h, p + "attention.self.key"))
            v = heads(self.lin(h, p + "attention.self.value"))
            scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d) + mask
            ctx = torch.matmul(torch.softmax(scores, dim=-1), v).permute(0, 2, 1, 3).contiguous()
            ctx = ctx.view(ctx.size()[:-2] + (hidden,))
            a = self.ln(self.lin(ctx, p + "attention.output.dense") + h, p + "attention.output.LayerNorm")
            inter = self.act(self.lin(a, p + "intermediate.dense"))
            h = self.ln(self.lin(inter, p + "output.dense") + a, p + "output.LayerNorm")
        logits = self.lin(h, "qa_outputs")
        return logits[..., 0], logits[..., 1]


def fused_graph(sd, heads, gelu, eps, out):
    """Builds the contrib-op graph (see the module docstring) with the onnx helper API and saves it."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    layers = 1 + max(int(k.split(".")[2]) for k in sd if k.startswith("encoder.layer."))
    inits, nodes = [], []

    def init(name, tensor):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(tensor.detach().float().numpy()), name))
        return name

    def node(op, inputs, outputs, domain="", **attrs):
        nodes.append(helper.make_node(op, inputs, outputs, name=outputs[0] + "_" + op, domain=domain, **attrs))
        return outputs[0]

    ms = "com.microsoft"
    for n in ("input_ids", "token_type_ids", "attention_mask"):
        node("Cast", [n], [n + "_i32"], to=TensorProto.INT32)
    node("EmbedLayerNormalization",
         ["input_ids_i32", "token_type_ids_i32", init("word", sd["embeddings.word_embeddings.weight"]),
          init("position", sd["embeddings.position_embeddings.weight"]),
          init("token_type", sd["embeddings.token_type_embeddings.weight"]),
          init("emb_gamma", sd["embeddings.LayerNorm.weight"]), init("emb_beta", sd["embeddings.LayerNorm.bias"])],
         ["h0", "mask_index_unused"], domain=ms, epsilon=eps)
    h = "h0"
    for i in range(layers):
        p = f"encoder.layer.{i}."
        qkv_w = torch.cat([sd[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")]).t()  # [W, 3W]
        qkv_b = torch.cat([sd[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
        ctx = node("Attention", [h, init(f"l{i}_qkv_w", qkv_w), init(f"l{i}_qkv_b", qkv_b), "attention_mask_i32"],
                   [f"l{i}_ctx"], domain=ms, num_heads=heads, mask_filter_value=-10000.0)
        o = node("MatMul", [ctx, init(f"l{i}_o_w", sd[p + "attention.output.dense.weight"].t())], [f"l{i}_o"])
        a = node("SkipLayerNormalization", [o, h, init(f"l{i}_ln1_g", sd[p + "attention.output.LayerNorm.weight"]),
                                            init(f"l{i}_ln1_b", sd[p + "attention.output.LayerNorm.bias"]),
                                            init(f"l{i}_o_b", sd[p + "attention.output.dense.bias"])],
                 [f"l{i}_a"], domain=ms, epsilon=eps)
        inter = node("MatMul", [a, init(f"l{i}_i_w", sd[p + "intermediate.dense.weight"].t())], [f"l{i}_i"])
        g = node("FastGelu" if gelu == "tanh" else "BiasGelu", [inter, init(f"l{i}_i_b", sd[p + "intermediate.dense.bias"])],
                 [f"l{i}_g"], domain=ms)
        o2 = node("MatMul", [g, init(f"l{i}_o2_w", sd[p + "output.dense.weight"].t())], [f"l{i}_o2"])
        h = node("SkipLayerNormalization", [o2, a, init(f"l{i}_ln2_g", sd[p + "output.LayerNorm.weight"]),
                                             init(f"l{i}_ln2_b", sd[p + "output.LayerNorm.bias"]),
                                             init(f"l{i}_o2_b", sd[p + "output.dense.bias"])],
                 [f"l{i}_h"], domain=ms, epsilon=eps)
    logits = node("MatMul", [h, init("qa_w", sd["qa_outputs.weight"].t())], ["qa"])
    logits = node("Add", [logits, init("qa_b", sd["qa_outputs.bias"])], ["logits"])
    node("Split", [logits], ["start3", "end3"], axis=2)
    node("Squeeze", ["start3"], ["start_logits"], axes=[2])
    node("Squeeze", ["end3"], ["end_logits"], axes=[2])

    ints = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "seq"])
            for n in ("input_ids", "token_type_ids", "attention_mask")]
    outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", "seq"]) for n in ("start_logits", "end_logits")]
    graph = helper.make_graph(nodes, "bert_fused", ints, outs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 12), helper.make_opsetid(ms, 1)],
                              producer_name="bertj weights/export_onnx.py")
    onnx.save(model, out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="torch.save checkpoint (NVIDIA format or canonical names)")
    ap.add_argument("--out", required=True, help="the .onnx file to write")
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--gelu", choices=["tanh", "erf"], default="tanh")
    ap.add_argument("--opset", type=int, default=14, help="opset of the torch export")
    ap.add_argument("--graph", choices=["torch", "fused"], default="torch")
    ap.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    args = ap.parse_args()
    if os.path.exists(args.out) and not args.force:
        sys.exit(f"export_onnx.py: {args.out} already exists (use --force to overwrite)")

    sd = load_state_dict(args.model)
    if "qa_outputs.weight" not in sd:
        sys.exit("export_onnx.py: the checkpoint has no qa_outputs head")
    plain = PlainBert(sd, args.heads, args.gelu).eval()
    ref = TorchBert(sd, args.heads, args.gelu)
    vocab = min(30522, sd["embeddings.word_embeddings.weight"].shape[0])
    ids, types, mask = random_inputs(1, 3, 45, vocab)
    with torch.no_grad():
        start, end = plain(ids, types, mask)
        expected = ref(ids, types, mask)
    diff = max((start - expected["start_logits"]).abs().max().item(), (end - expected["end_logits"]).abs().max().item())
    if not diff <= 1e-4:
        sys.exit(f"export_onnx.py: the plain model differs from TorchBert by {diff:.3e} (limit 1e-4); not exporting")

    if args.graph == "fused":
        fused_graph(sd, args.heads, args.gelu, 1e-12, args.out)
        print(f"wrote {args.out}: ONNX Runtime contrib-op graph, gelu {args.gelu}")
        return
    dynamic = {"input_ids": {0: "batch", 1: "seq"}, "token_type_ids": {0: "batch", 1: "seq"},
               "attention_mask": {0: "batch", 1: "seq"}, "start_logits": {0: "batch", 1: "seq"},
               "end_logits": {0: "batch", 1: "seq"}}
    with torch.no_grad():
        torch.onnx.export(plain, (ids, types, mask), args.out, input_names=["input_ids", "token_type_ids", "attention_mask"],
                          output_names=["start_logits", "end_logits"], dynamic_axes=dynamic, opset_version=args.opset,
                          do_constant_folding=True)
    try:
        import onnx
        onnx.checker.check_model(onnx.load(args.out))
    except ImportError:
        pass
    print(f"wrote {args.out}: opset {args.opset}, gelu {args.gelu}, plain model vs TorchBert max |diff| {diff:.2e}")


if __name__ == "__main__":
    main()
