"""BERT built from PyTorch's own modules, with a checkpoint's weights copied in.

Independent of the Java code: nn.Embedding, nn.LayerNorm, nn.TransformerEncoderLayer (post-norm, batch_first)
and nn.Linear compute everything. The GELU is passed as a plain function: with activation=nn.GELU(...) or "gelu"
torch's inference fast path may silently compute the erf form; a function (and a float padding mask) keeps the
ordinary path, which applies exactly the function given.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def gelu_tanh(x):
    return F.gelu(x, approximate="tanh")


def gelu_erf(x):
    return F.gelu(x)


def canonical(key):
    """Maps NVIDIA / Hugging Face / DataParallel spellings to one name (mirrors docs/formats.md)."""
    while key.startswith("module."):
        key = key[len("module."):]
    if key.startswith("bert."):
        key = key[len("bert."):]
    key = key.replace(".dense_act.", ".dense.")
    if key.endswith("LayerNorm.gamma"):
        key = key[:-5] + "weight"
    if key.endswith("LayerNorm.beta"):
        key = key[:-4] + "bias"
    return key


def load_state_dict(path):
    obj = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(obj, dict) and "model" in obj and isinstance(obj["model"], dict):
        obj = obj["model"]
    return {canonical(k): v for k, v in obj.items() if torch.is_tensor(v)}


class TorchBert(nn.Module):
    def __init__(self, sd, heads, gelu, eps=1e-12):
        super().__init__()
        vocab, hidden = sd["embeddings.word_embeddings.weight"].shape
        layers = 1 + max(int(k.split(".")[2]) for k in sd if k.startswith("encoder.layer."))
        inter = sd["encoder.layer.0.intermediate.dense.weight"].shape[0]
        self.word = nn.Embedding(vocab, hidden)
        self.position = nn.Embedding(sd["embeddings.position_embeddings.weight"].shape[0], hidden)
        self.token_type = nn.Embedding(sd["embeddings.token_type_embeddings.weight"].shape[0], hidden)
        self.norm = nn.LayerNorm(hidden, eps=eps)
        act = gelu_tanh if gelu == "tanh" else gelu_erf
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(hidden, heads, inter, dropout=0.0, activation=act, layer_norm_eps=eps,
                                       batch_first=True, norm_first=False)
            for _ in range(layers))
        self.qa = nn.Linear(hidden, 2) if "qa_outputs.weight" in sd else None
        with torch.no_grad():
            self.word.weight.copy_(sd["embeddings.word_embeddings.weight"])
            self.position.weight.copy_(sd["embeddings.position_embeddings.weight"])
            self.token_type.weight.copy_(sd["embeddings.token_type_embeddings.weight"])
            self.norm.weight.copy_(sd["embeddings.LayerNorm.weight"])
            self.norm.bias.copy_(sd["embeddings.LayerNorm.bias"])
            for i, layer in enumerate(self.layers):
                p = f"encoder.layer.{i}."
                q, k, v = (p + "attention.self." + n for n in ("query", "key", "value"))
                layer.self_attn.in_proj_weight.copy_(torch.cat([sd[q + ".weight"], sd[k + ".weight"], sd[v + ".weight"]]))
                layer.self_attn.in_proj_bias.copy_(torch.cat([sd[q + ".bias"], sd[k + ".bias"], sd[v + ".bias"]]))
                layer.self_attn.out_proj.weight.copy_(sd[p + "attention.output.dense.weight"])
                layer.self_attn.out_proj.bias.copy_(sd[p + "attention.output.dense.bias"])
                layer.norm1.weight.copy_(sd[p + "attention.output.LayerNorm.weight"])
                layer.norm1.bias.copy_(sd[p + "attention.output.LayerNorm.bias"])
                layer.linear1.weight.copy_(sd[p + "intermediate.dense.weight"])
                layer.linear1.bias.copy_(sd[p + "intermediate.dense.bias"])
                layer.linear2.weight.copy_(sd[p + "output.dense.weight"])
                layer.linear2.bias.copy_(sd[p + "output.dense.bias"])
                layer.norm2.weight.copy_(sd[p + "output.LayerNorm.weight"])
                layer.norm2.bias.copy_(sd[p + "output.LayerNorm.bias"])
            if self.qa is not None:
                self.qa.weight.copy_(sd["qa_outputs.weight"])
                self.qa.bias.copy_(sd["qa_outputs.bias"])
        self.eval()

    @torch.no_grad()
    def forward(self, input_ids, token_type_ids, attention_mask):
        """Returns a dict: embeddings, layer.i (output of layer i), start_logits, end_logits."""
        seq = input_ids.shape[1]
        positions = torch.arange(seq).unsqueeze(0)
        h = self.norm(self.word(input_ids) + self.position(positions) + self.token_type(token_type_ids))
        # BERT's additive mask: -10000 on padded keys. Given as a float attention mask [B*heads, S, S], it is
        # added to the scores as is; torch's fast path (which would turn it into a boolean -inf mask) is not taken.
        batch, heads = input_ids.shape[0], self.layers[0].self_attn.num_heads
        padding = (1.0 - attention_mask.to(h.dtype)) * -10000.0
        additive = padding[:, None, None, :].expand(batch, heads, seq, seq).reshape(batch * heads, seq, seq)
        out = {"embeddings": h}
        for i, layer in enumerate(self.layers):
            h = layer(h, src_mask=additive)
            out[f"layer.{i}"] = h
        if self.qa is not None:
            logits = self.qa(h)
            out["start_logits"] = logits[..., 0].contiguous()
            out["end_logits"] = logits[..., 1].contiguous()
        return out
