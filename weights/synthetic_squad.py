#!/usr/bin/env python3
"""A synthetic SQuAD v1.1 file shaped like the dev set, for timing `bertj squad` (not for accuracy).

SQuAD v1.1 dev: 2,067 passages, 10,570 questions (about 5 per passage), passages of the order of 120 words (a few
over 600), questions of about 10 words. Here passage lengths are log-normal around 105 words (20 to 650); words are
a vocabulary's whole-word entries, one in twelve glued to another so that WordPiece splits it, with commas and full
stops: about 1.3 tokens per word, windows of about 160 tokens on average. Each question's answer is a span of 1-4
words of its passage.

  synthetic_squad.py --vocab vocab.txt|tokenizer.json --out squad.json [--passages 2067] [--questions-per 5] [--seed 1]
"""
import argparse
import json
import random


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vocab", required=True, help="vocab.txt (one token per line) or a WordPiece tokenizer.json")
    ap.add_argument("--out", required=True)
    ap.add_argument("--passages", type=int, default=2067)
    ap.add_argument("--questions-per", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    r = random.Random(args.seed)
    with open(args.vocab, encoding="utf-8") as f:
        entries = list(json.load(f)["model"]["vocab"]) if args.vocab.endswith(".json") else [w.strip() for w in f]
    words = sorted(w for w in entries if w.isalpha() and w.isascii() and len(w) > 2)

    def word():
        w = r.choice(words)
        return w + r.choice(words) if r.random() < 0.08 else w

    paragraphs, qid = [], 0
    for _ in range(args.passages):
        n = max(20, min(650, int(r.lognormvariate(4.65, 0.45))))
        text = []
        for k in range(n):
            w = word()
            text.append(w.capitalize() if k == 0 or text[-1].endswith(".") else w)
            if r.random() < 0.04:
                text[-1] += "."
            elif r.random() < 0.04:
                text[-1] += ","
        context = " ".join(text) + "."
        qas = []
        for _ in range(args.questions_per):
            at = r.randrange(len(text))
            answer = " ".join(text[at:at + r.randint(1, 4)])
            question = r.choice(["What", "Who", "When", "Where", "How many"]) + " " + " ".join(word() for _ in range(r.randint(4, 14))) + "?"
            qas.append({"id": "s%06d" % qid, "question": question,
                        "answers": [{"text": answer, "answer_start": context.index(answer)}]})
            qid += 1
        paragraphs.append({"context": context, "qas": qas})
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"version": "1.1", "data": [{"title": "synthetic", "paragraphs": paragraphs}]}, f)
    print(f"wrote {args.out}: {len(paragraphs)} passages, {qid} questions")


if __name__ == "__main__":
    main()
