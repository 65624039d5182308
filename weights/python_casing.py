#!/usr/bin/env python3
"""This Python's str.lower() and the two properties its Final_Sigma rule reads, for bertj's PythonLowerCase test.

For every code point (surrogates excepted) it probes str.lower() itself rather than a table: with X the code point,
  "XΣ".lower() ends in "ς"  iff X is cased and not case-ignorable;
  "AΣXA".lower() has "σ" where "AΣX".lower() has "ς"  iff X is case-ignorable (or cased, caught by the first probe).
Output (--out, JSON): {"unicode": unicodedata.unidata_version, "categories": [[first code point, category], ...]
(runs), "ignorable": [...], "cased": [...] (code points, the second excluding the first), "lower": {code point:
[code points of X.lower()]} where that is not X, "strings": [[s, s.lower()], ...] for the strings of --strings
(a JSON list in a file)}.
"""
import argparse
import json
import unicodedata


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--strings", help="JSON file with a list of strings to lower-case")
    args = ap.parse_args()
    runs, ignorable, cased, lower = [], [], [], {}
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        x = chr(cp)
        cat = unicodedata.category(x)
        if not runs or runs[-1][1] != cat:
            runs.append([cp, cat])
        if cp == 0x3A3:
            continue
        if (x + "\u03a3").lower()[-1] == "\u03c2":
            cased.append(cp)
        elif ("A\u03a3" + x).lower()[1] == "\u03c2" and ("A\u03a3" + x + "A").lower()[1] == "\u03c3":
            ignorable.append(cp)
        low = x.lower()
        if low != x:
            lower[cp] = [ord(c) for c in low]
    strings = []
    if args.strings:
        with open(args.strings, encoding="utf-8") as f:
            strings = [[s, s.lower()] for s in json.load(f)]
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"unicode": unicodedata.unidata_version, "categories": runs, "ignorable": ignorable, "cased": cased,
                   "lower": lower, "strings": strings}, f, ensure_ascii=True)


if __name__ == "__main__":
    main()
