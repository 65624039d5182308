#!/usr/bin/env python3
"""SQuAD v1.1 exact match and F1, written from the official evaluation's definition, to check bertj's Java.

normalize: lower-case; drop string.punctuation; replace whole-word a/an/the (Python's Unicode \\b) by a space;
collapse whitespace (str.split). EM: normalized strings equal. F1: token multiset overlap, 2PR/(P+R), 0 when
nothing overlaps. Each item scores the maximum over its ground truths.

Input (--input, JSON): [[prediction, [truth, ...]], ...]. Output (--out, JSON): [[em, f1], ...].
"""
import argparse
import collections
import json
import re
import string

PUNCT = set(string.punctuation)
ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize(s):
    s = "".join(c for c in s.lower() if c not in PUNCT)
    return " ".join(ARTICLES.sub(" ", s).split())


def f1(pred, truth):
    p, t = normalize(pred).split(), normalize(truth).split()
    same = sum((collections.Counter(p) & collections.Counter(t)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(p), same / len(t)
    return 2 * precision * recall / (precision + recall)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--input", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    with open(args.input, encoding="utf-8") as f:
        items = json.load(f)
    out = [[max(float(normalize(p) == normalize(t)) for t in truths), max(f1(p, t) for t in truths)] for p, truths in items]
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f)
    print(f"scored {len(out)} predictions")


if __name__ == "__main__":
    main()
