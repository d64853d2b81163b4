#!/usr/bin/env python3
"""Copy the shared corpus of real captures into testdata/ so that the
project's tests stand on their own.

For every ../shared/corpus/cases/<case>/ this writes testdata/<case>/ with:
  capture.*             the capture, unchanged
  README.md             one line: what the capture shows (from about.txt)
  expected.jsonl        the keyless verdicts (expected-nokeys.jsonl; the
                        spec's inference rules), computed by an independent
                        tshark-based oracle, never by tlsclose
  expected-keys.jsonl   the verdicts with the key log (expected.jsonl)
  sslkeys.log           the NSS key log (throwaway keys)
  decode.txt            (STARTTLS cases) the oracle's decode-as hint

Expected files are copied, never edited. Usage: scripts/import-corpus.py [CORPUS]
"""
import os
import shutil
import sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
corpus = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "..", "shared", "corpus")
cases = os.path.join(corpus, "cases")
out_root = os.path.join(root, "testdata")

n = 0
for case in sorted(os.listdir(cases)):
    src = os.path.join(cases, case)
    if not os.path.isdir(src):
        continue
    dst = os.path.join(out_root, case)
    os.makedirs(dst, exist_ok=True)
    for name in sorted(os.listdir(src)):
        s = os.path.join(src, name)
        if name.startswith("capture.") or name in ("sslkeys.log", "decode.txt"):
            shutil.copyfile(s, os.path.join(dst, name))
        elif name == "expected-nokeys.jsonl":
            shutil.copyfile(s, os.path.join(dst, "expected.jsonl"))
        elif name == "expected.jsonl":
            shutil.copyfile(s, os.path.join(dst, "expected-keys.jsonl"))
        elif name == "about.txt":
            text = " ".join(open(s).read().split())
            with open(os.path.join(dst, "README.md"), "w") as f:
                f.write(f"{text}\n\n(Imported from the shared corpus case `{case}` by scripts/import-corpus.py.)\n")
    n += 1
print(f"imported {n} cases into {out_root}")
