#!/usr/bin/env python3
"""An independent Python implementation of SQuAD v1.1 inference as run_squad.py does it, to check bertj's Java.

Written from the algorithm, not from run_squad.py's code: BERT's basic tokenizer (Google's rules: drop NUL, U+FFFD
and category C* characters, whitespace and Zs to spaces, spaces around CJK ideographs (the blocks as Hugging Face
tokenizers lists them), lower-case and strip Mn after NFD when uncased, split off ASCII-symbol and P*
punctuation), greedy WordPiece, whitespace "document words",
sliding windows with max-context flags, n-best span decoding with get_final_text's alignment, softmax.

Input (--input, JSON): {"settings": {max_seq_length, doc_stride, max_query_length, n_best_size,
max_answer_length}, "examples": [{"id", "question", "context"}], "logits": optional {id: [[start, end] per
window]} where start/end list one logit per real token}. With --model, the logits come from PyTorch instead
(weights/torch_bert.py's TorchBert on windows padded to max_seq_length, as run_squad.py runs them).
Output (--out, JSON): {"examples": [{"id", "features": [...], "nbest": [...], "answer"}]}.

Known differences from the Hugging Face tokenizers rules bertj follows (so test texts avoid them): unassigned
code points are dropped here, Python's own Unicode tables are used, and special tokens written in the text are
not matched.
"""
import argparse
import json
import math
import os
import sys
import unicodedata


# ---------------------------------------------------------------- tokenizer

def load_vocab(path):
    vocab = {}
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            vocab[line.rstrip("\r\n").rstrip()] = i
    return vocab


def is_ws(ch):
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def is_ctrl(ch):
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch).startswith("C")


def is_punct(ch):
    o = ord(ch)
    if 33 <= o <= 47 or 58 <= o <= 64 or 91 <= o <= 96 or 123 <= o <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


CJK = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F), (0x2B740, 0x2B81F),
       (0x2B920, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)]


def is_cjk(ch):
    o = ord(ch)
    return any(a <= o <= b for a, b in CJK)


def basic_tokens(text, lower):
    out = []
    for ch in text:
        if ord(ch) in (0, 0xFFFD) or is_ctrl(ch):
            continue
        if is_ws(ch):
            out.append(" ")
        elif is_cjk(ch):
            out.extend((" ", ch, " "))
        else:
            out.append(ch)
    words = []
    for w in "".join(out).split():
        if lower:
            w = "".join(c for c in unicodedata.normalize("NFD", w.lower()) if unicodedata.category(c) != "Mn")
        cur = ""
        for c in w:
            if is_punct(c):
                if cur:
                    words.append(cur)
                words.append(c)
                cur = ""
            else:
                cur += c
        if cur:
            words.append(cur)
    return words


def wordpiece(word, vocab):
    if len(word) > 100:
        return ["[UNK]"]
    pieces, i = [], 0
    while i < len(word):
        j = len(word)
        while j > i:
            cand = word[i:j] if i == 0 else "##" + word[i:j]
            if cand in vocab:
                break
            j -= 1
        if j == i:
            return ["[UNK]"]
        pieces.append(cand)
        i = j
    return pieces


def tokenize(text, vocab, lower):
    return [p for w in basic_tokens(text, lower) for p in wordpiece(w, vocab)]


# ---------------------------------------------------------------- features

def doc_words(context):
    """run_squad.py's whitespace is space, tab, CR, LF and U+202F; anything else belongs to a word."""
    words, inside = [], False
    for ch in context:
        if ch in " \t\r\n\u202f":
            inside = False
        elif inside:
            words[-1] += ch
        else:
            words.append(ch)
            inside = True
    return words


def windows(n_tokens, room, stride):
    out, start = [], 0
    while start < n_tokens:
        length = min(room, n_tokens - start)
        out.append((start, length))
        if start + length == n_tokens:
            break
        start += min(length, stride)
    return out


def best_window(spans, pos):
    best, best_i = None, None
    for i, (start, length) in enumerate(spans):
        last = start + length - 1
        if start <= pos <= last:
            score = min(pos - start, last - pos) + 0.01 * length
            if best is None or score > best:
                best, best_i = score, i
    return best_i


def features_of(example, vocab, lower, s):
    query = tokenize(example["question"], vocab, lower)[:s["max_query_length"]]
    words = doc_words(example["context"])
    doc, owner = [], []
    for wi, w in enumerate(words):
        for p in tokenize(w, vocab, lower):
            doc.append(p)
            owner.append(wi)
    spans = windows(len(doc), s["max_seq_length"] - len(query) - 3, s["doc_stride"])
    feats = []
    for wi, (start, length) in enumerate(spans):
        tokens = ["[CLS]"] + query + ["[SEP]"]
        types = [0] * len(tokens)
        to_word, max_ctx = {}, {}
        for k in range(length):
            to_word[len(tokens)] = owner[start + k]
            max_ctx[len(tokens)] = best_window(spans, start + k) == wi
            tokens.append(doc[start + k])
            types.append(1)
        tokens.append("[SEP]")
        types.append(1)
        feats.append({"tokens": tokens, "input_ids": [vocab[t] for t in tokens], "token_type_ids": types,
                      "token_to_orig_map": to_word, "token_is_max_context": max_ctx, "start": start})
    return words, feats


# ---------------------------------------------------------------- decoding

def top_indices(values, n):
    return [i for i, _ in sorted(enumerate(values), key=lambda p: p[1], reverse=True)[:n]]


def final_text(pred, orig, lower):
    """Aligns the glued prediction with the original words through their space-free forms."""
    tok = " ".join(basic_tokens(orig, lower))
    at = tok.find(pred)
    if at < 0:
        return orig
    last = at + len(pred) - 1

    def squeeze(t):
        keep = [i for i, c in enumerate(t) if c != " "]
        return "".join(t[i] for i in keep), keep

    orig_ns, orig_pos = squeeze(orig)
    tok_ns, tok_pos = squeeze(tok)
    if len(orig_ns) != len(tok_ns):
        return orig
    where = {p: i for i, p in enumerate(tok_pos)}
    if at not in where or last not in where:
        return orig
    return orig[orig_pos[where[at]]:orig_pos[where[last]] + 1]


def decode(words, feats, logits, lower, s):
    cands = []
    for fi, (f, (start_l, end_l)) in enumerate(zip(feats, logits)):
        for a in top_indices(start_l, s["n_best_size"]):
            for b in top_indices(end_l, s["n_best_size"]):
                if a not in f["token_to_orig_map"] or b not in f["token_to_orig_map"]:
                    continue
                if not f["token_is_max_context"].get(a, False):
                    continue
                if b < a or b - a + 1 > s["max_answer_length"]:
                    continue
                cands.append((start_l[a] + end_l[b], fi, a, b, start_l[a], end_l[b]))
    cands.sort(key=lambda c: c[0], reverse=True)
    chosen, seen = [], set()
    for score, fi, a, b, sl, el in cands:
        if len(chosen) == s["n_best_size"]:
            break
        f = feats[fi]
        glued = " ".join(f["tokens"][a:b + 1]).replace(" ##", "").replace("##", "")
        glued = " ".join(glued.split())
        orig = " ".join(words[f["token_to_orig_map"][a]:f["token_to_orig_map"][b] + 1])
        text = final_text(glued, orig, lower)
        if text in seen:
            continue
        seen.add(text)
        chosen.append({"text": text, "start_logit": sl, "end_logit": el})
    if chosen:
        top = max(c["start_logit"] + c["end_logit"] for c in chosen)
        ex = [math.exp(c["start_logit"] + c["end_logit"] - top) for c in chosen]
        for c, e in zip(chosen, ex):
            c["probability"] = e / sum(ex)
    return chosen


# ---------------------------------------------------------------- model

def model_logits(path, heads, gelu, all_feats, max_seq):
    import torch
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from torch_bert import TorchBert, load_state_dict
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    model = TorchBert(load_state_dict(path), heads, gelu)
    out = []
    for f in all_feats:
        n = len(f["input_ids"])
        pad = max_seq - n
        ids = torch.tensor([f["input_ids"] + [0] * pad])
        types = torch.tensor([f["token_type_ids"] + [0] * pad])
        mask = torch.tensor([[1] * n + [0] * pad])
        r = model(ids, types, mask)
        out.append((r["start_logits"][0, :n].tolist(), r["end_logits"][0, :n].tolist()))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vocab", required=True, help="vocab.txt")
    ap.add_argument("--input", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--cased", action="store_true")
    ap.add_argument("--model", help="checkpoint for TorchBert; the logits then come from PyTorch")
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--gelu", choices=["tanh", "erf"], default="tanh")
    args = ap.parse_args()
    lower = not args.cased
    vocab = load_vocab(args.vocab)
    with open(args.input, encoding="utf-8") as f:
        spec = json.load(f)
    s = spec["settings"]
    built = [(e, *features_of(e, vocab, lower, s)) for e in spec["examples"]]
    logits = {}
    if args.model:
        flat = [f for _, _, feats in built for f in feats]
        got = iter(model_logits(args.model, args.heads, args.gelu, flat, s["max_seq_length"]))
        for e, _, feats in built:
            logits[e["id"]] = [next(got) for _ in feats]
    elif "logits" in spec:
        logits = {k: [tuple(w) for w in v] for k, v in spec["logits"].items()}
    out = []
    for e, words, feats in built:
        item = {"id": e["id"], "words": words, "features": [
            dict(f, token_to_orig_map={str(k): v for k, v in f["token_to_orig_map"].items()},
                 token_is_max_context={str(k): v for k, v in f["token_is_max_context"].items()}) for f in feats]}
        if e["id"] in logits:
            item["logits"] = logits[e["id"]]
            item["nbest"] = decode(words, feats, logits[e["id"]], lower, s)
            item["answer"] = item["nbest"][0]["text"] if item["nbest"] else None
        out.append(item)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"examples": out}, f, ensure_ascii=False)
    print(f"wrote {args.out}: {len(out)} examples, {sum(len(i['features']) for i in out)} features")


if __name__ == "__main__":
    main()
