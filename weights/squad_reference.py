#!/usr/bin/env python3
"""An independent Python implementation of SQuAD v1.1 inference as run_squad.py does it, to check bertj's Java.

Written from the algorithm, not from run_squad.py's code: BERT's basic tokenizer (Google's rules: drop NUL, U+FFFD
and category C* characters, whitespace and Zs to spaces, spaces around CJK ideographs (the blocks as Hugging Face
tokenizers lists them), lower-case and strip Mn after NFD when uncased, split off ASCII-symbol and P*
punctuation), greedy WordPiece, whitespace "document words",
sliding windows with max-context flags, n-best span decoding with get_final_text's alignment, softmax.

Two decodings (--decoding), as bertj names them:
- masked: the n best start and end positions of each window are taken over its real tokens only; the candidates of
  all windows are sorted together and a text is kept once over all windows (Google's write_predictions).
- nvidia: NVIDIA DeepLearningExamples' run_squad.py (get_answers), from its description: each window is padded to
  max_seq_length with id 0, segment 0, mask 0 and the n best start and end positions are taken over all of those
  positions, padding included; a pair survives if both ends are real passage tokens of the window, the start has
  its max context there, start <= end and the span has at most max_answer_length tokens; each window's survivors
  are sorted by score, a text the window already gave is skipped, at most n are kept per window; the windows'
  lists are concatenated, sorted by score (stably) and cut to n; when nothing is left the answer is the
  placeholder "empty" with logits 0.0; a question without windows gets no prediction at all.
Lower-casing (--lowercasing): python lower-cases each whitespace-separated word with str.lower() (Unicode's
Final_Sigma: a word-final capital sigma becomes "ς"), as Google's and NVIDIA's tokenization.py; hf lower-cases each
character on its own, as Hugging Face's tokenizers. The default follows the decoding (nvidia: python; masked: hf).

Input (--input, JSON): {"settings": {max_seq_length, doc_stride, max_query_length, n_best_size,
max_answer_length}, "examples": [{"id", "question", "context", "answers": optional [text, ...]}], "logits":
optional {id: [[start, end] per window]} where start/end list one logit per real token (masked) or per padded
position, max_seq_length of them (nvidia)}. With --model, the logits come from PyTorch instead (weights/torch_bert.py's
TorchBert on windows padded to max_seq_length, as run_squad.py runs them; --dtype float64 for a float64 model).
Output (--out, JSON): {"examples": [{"id", "features": [...], "nbest": [...], "answer", "padding_among_best",
"placeholder"}],
"evaluation": {"exact_match", "f1", "padding_among_best", "empty"}} — the evaluation (weights/squad_eval_reference.py's
EM/F1, in percent, a question without prediction scoring 0) when examples carry answers.

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


def lower_word(word, lowercasing):
    """python: str.lower() on the whole word (Final_Sigma sees its neighbours); hf: each character alone."""
    if lowercasing == "python":
        return word.lower()
    return "".join(ch.lower() for ch in word)


def basic_tokens(text, lower, lowercasing="hf"):
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
            w = "".join(c for c in unicodedata.normalize("NFD", lower_word(w, lowercasing)) if unicodedata.category(c) != "Mn")
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


def tokenize(text, vocab, lower, lowercasing="hf"):
    return [p for w in basic_tokens(text, lower, lowercasing) for p in wordpiece(w, vocab)]


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


def features_of(example, vocab, lower, lowercasing, s):
    query = tokenize(example["question"], vocab, lower, lowercasing)[:s["max_query_length"]]
    words = doc_words(example["context"])
    doc, owner = [], []
    for wi, w in enumerate(words):
        for p in tokenize(w, vocab, lower, lowercasing):
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


def final_text(pred, orig, lower, lowercasing):
    """Aligns the glued prediction with the original words through their space-free forms."""
    tok = " ".join(basic_tokens(orig, lower, lowercasing))
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


def span_text(words, f, a, b, lower, lowercasing):
    glued = " ".join(f["tokens"][a:b + 1]).replace(" ##", "").replace("##", "")
    glued = " ".join(glued.split())
    orig = " ".join(words[f["token_to_orig_map"][a]:f["token_to_orig_map"][b] + 1])
    return final_text(glued, orig, lower, lowercasing)


def valid_pairs(f, starts, ends, start_l, end_l, s):
    """The (score, start, end) pairs whose both ends are passage tokens of the window, start max-context, in order."""
    n_real = len(f["tokens"])
    out = []
    for a in starts:
        for b in ends:
            if a >= n_real or b >= n_real:
                continue  # padding (nvidia only: masked never ranks it)
            if a not in f["token_to_orig_map"] or b not in f["token_to_orig_map"]:
                continue
            if not f["token_is_max_context"].get(a, False):
                continue
            if b < a or b - a + 1 > s["max_answer_length"]:
                continue
            out.append((start_l[a] + end_l[b], a, b))
    return out


def with_probabilities(chosen):
    if chosen:
        top = max(c["start_logit"] + c["end_logit"] for c in chosen)
        ex = [math.exp(c["start_logit"] + c["end_logit"] - top) for c in chosen]
        total = 0.0
        for e in ex:
            total += e
        for c, e in zip(chosen, ex):
            c["probability"] = e / total
    return chosen


def decode(words, feats, logits, lower, lowercasing, s):
    """masked: real tokens ranked, one list over all windows, texts kept once over all of them."""
    cands = []
    for fi, (f, (start_l, end_l)) in enumerate(zip(feats, logits)):
        n_real = len(f["tokens"])
        pairs = valid_pairs(f, top_indices(start_l[:n_real], s["n_best_size"]), top_indices(end_l[:n_real], s["n_best_size"]),
                            start_l, end_l, s)
        cands.extend((score, fi, a, b) for score, a, b in pairs)
    cands.sort(key=lambda c: c[0], reverse=True)
    chosen, seen = [], set()
    for score, fi, a, b in cands:
        if len(chosen) == s["n_best_size"]:
            break
        text = span_text(words, feats[fi], a, b, lower, lowercasing)
        if text in seen:
            continue
        seen.add(text)
        chosen.append({"text": text, "start_logit": logits[fi][0][a], "end_logit": logits[fi][1][b]})
    return with_probabilities(chosen), False, False


def decode_nvidia(words, feats, logits, lower, lowercasing, s):
    """nvidia: every padded position ranked; texts kept once per window; windows merged, sorted, cut; "empty"."""
    n = s["n_best_size"]
    merged, padding = [], False
    for f, (start_l, end_l) in zip(feats, logits):
        if len(start_l) != s["max_seq_length"] or len(end_l) != s["max_seq_length"]:
            raise SystemExit("nvidia decoding needs the logits of all %d padded positions" % s["max_seq_length"])
        starts, ends = top_indices(start_l, n), top_indices(end_l, n)
        n_real = len(f["tokens"])
        padding = padding or any(i >= n_real for i in starts + ends)
        pairs = valid_pairs(f, starts, ends, start_l, end_l, s)
        pairs.sort(key=lambda p: p[0], reverse=True)
        window, texts = [], set()
        for score, a, b in pairs:
            if len(window) == n:
                break
            text = span_text(words, f, a, b, lower, lowercasing)
            if text in texts:
                continue
            texts.add(text)
            window.append({"text": text, "start_logit": start_l[a], "end_logit": end_l[b]})
        merged.extend(window)
    if not feats:
        return [], False, False
    merged.sort(key=lambda c: c["start_logit"] + c["end_logit"], reverse=True)
    chosen = merged[:n] or [{"text": "empty", "start_logit": 0.0, "end_logit": 0.0}]
    return with_probabilities(chosen), padding, not merged


# ---------------------------------------------------------------- model

def model_logits(path, heads, gelu, all_feats, max_seq, keep_padding, dtype):
    """Each window padded to max_seq with id 0, segment 0, mask 0; the logits of its real tokens, or of all positions."""
    import torch
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from torch_bert import TorchBert, load_state_dict
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    model = TorchBert(load_state_dict(path), heads, gelu)
    if dtype == "float64":
        model = model.double()
    out = []
    for at in range(0, len(all_feats), 8):  # every window has max_seq positions, so they batch as they are
        chunk = all_feats[at:at + 8]
        lengths = [len(f["input_ids"]) for f in chunk]
        ids = torch.tensor([f["input_ids"] + [0] * (max_seq - n) for f, n in zip(chunk, lengths)])
        types = torch.tensor([f["token_type_ids"] + [0] * (max_seq - n) for f, n in zip(chunk, lengths)])
        mask = torch.tensor([[1] * n + [0] * (max_seq - n) for n in lengths])
        r = model(ids, types, mask)
        for k, n in enumerate(lengths):
            keep = max_seq if keep_padding else n
            out.append((r["start_logits"][k, :keep].tolist(), r["end_logits"][k, :keep].tolist()))
    return out


def evaluate(examples, answers):
    """EM and F1 in percent over the examples that carry answers (weights/squad_eval_reference.py's definitions)."""
    from squad_eval_reference import normalize, f1
    em = f1_total = 0.0
    scored = [e for e in examples if e.get("answers")]
    for e in scored:
        pred = answers.get(e["id"])
        if pred is None:
            continue
        em += max(1.0 if normalize(pred) == normalize(t) else 0.0 for t in e["answers"])
        f1_total += max(f1(pred, t) for t in e["answers"])
    return {"exact_match": 100.0 * em / len(scored), "f1": 100.0 * f1_total / len(scored)} if scored else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vocab", required=True, help="vocab.txt")
    ap.add_argument("--input", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--cased", action="store_true")
    ap.add_argument("--model", help="checkpoint for TorchBert; the logits then come from PyTorch")
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--gelu", choices=["tanh", "erf"], default="tanh")
    ap.add_argument("--decoding", choices=["masked", "nvidia"], default="masked")
    ap.add_argument("--lowercasing", choices=["hf", "python"], help="default: python for nvidia, hf for masked")
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32", help="TorchBert's precision (--model)")
    args = ap.parse_args()
    lower = not args.cased
    lowercasing = args.lowercasing or ("python" if args.decoding == "nvidia" else "hf")
    nvidia = args.decoding == "nvidia"
    vocab = load_vocab(args.vocab)
    with open(args.input, encoding="utf-8") as f:
        spec = json.load(f)
    s = spec["settings"]
    built = [(e, *features_of(e, vocab, lower, lowercasing, s)) for e in spec["examples"]]
    logits = {}
    if args.model:
        flat = [f for _, _, feats in built for f in feats]
        got = iter(model_logits(args.model, args.heads, args.gelu, flat, s["max_seq_length"], nvidia, args.dtype))
        for e, _, feats in built:
            logits[e["id"]] = [next(got) for _ in feats]
    elif "logits" in spec:
        logits = {k: [tuple(w) for w in v] for k, v in spec["logits"].items()}
    out, answers = [], {}
    padded = empty = 0
    for e, words, feats in built:
        item = {"id": e["id"], "words": words, "features": [
            dict(f, token_to_orig_map={str(k): v for k, v in f["token_to_orig_map"].items()},
                 token_is_max_context={str(k): v for k, v in f["token_is_max_context"].items()}) for f in feats]}
        if e["id"] in logits:
            item["logits"] = logits[e["id"]]
            nbest, padding, placeholder = (decode_nvidia if nvidia else decode)(words, feats, logits[e["id"]], lower,
                                                                                 lowercasing, s)
            item["nbest"] = nbest
            item["padding_among_best"] = padding
            item["placeholder"] = placeholder
            item["answer"] = nbest[0]["text"] if nbest else None
            if nbest or not nvidia:  # nvidia: a question without windows has no prediction; masked predicts ""
                answers[e["id"]] = item["answer"] or ""
            padded += padding
            empty += placeholder
        out.append(item)
    result = {"examples": out}
    ev = evaluate(spec["examples"], answers)
    if ev is not None:
        result["evaluation"] = dict(ev, padding_among_best=padded, empty=empty)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False)
    print(f"wrote {args.out}: {len(out)} examples, {sum(len(i['features']) for i in out)} features"
          + (f", padding among the best positions of {padded}, empty {empty}" if nvidia else ""))


if __name__ == "__main__":
    main()
