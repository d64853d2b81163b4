#!/usr/bin/env python3
"""Compare tlsclose's JSON Lines with a mkbench.py truth file, flow by flow.

    check_truth.py OUT.jsonl X.truth.json

Compares ending, closer and which sides sent close_notify (truth's
`close_notify` list vs. client/server_close_notify != none) for every flow
of the truth file; prints the disagreements (at most 20) and one line
`truth: N/M flows agree on ending and closer, K/M also on close_notify`.
Exit status 1 when an ending or closer disagrees. (Without keys, a fatal
alert that is the last record of its side is inferred close_notify by the
spec's rules; the generator's truth knows it was fatal.)
"""
import json
import sys


def main():
    out_path, truth_path = sys.argv[1], sys.argv[2]
    truth = json.load(open(truth_path))["flows_by_key"]
    got = {}
    for line in open(out_path):
        o = json.loads(line)
        if "ending" in o:
            got[f'{o["client"]} {o["server"]}'] = o
    bad = []
    verdict_ok = 0
    for key, t in truth.items():
        g = got.get(key)
        if g is None:
            bad.append(f"{key}: missing")
            continue
        sides = sorted(s for s in ("client", "server") if g[f"{s}_close_notify"] != "none")
        diffs = []
        if g["ending"] != t["ending"]:
            diffs.append(f'ending {t["ending"]} got {g["ending"]}')
        if g["closer"] != t["closer"]:
            diffs.append(f'closer {t["closer"]} got {g["closer"]}')
        if not diffs:
            verdict_ok += 1
        if sides != sorted(t.get("close_notify", [])):
            diffs.append(f'close_notify {sorted(t.get("close_notify", []))} got {sides}')
        if diffs:
            bad.append(f"{key}: " + ", ".join(diffs))
    extra = len(set(got) - set(truth))
    for b in bad[:20]:
        print(b)
    print(f"truth: {verdict_ok}/{len(truth)} flows agree on ending and closer, "
          f"{len(truth) - len(bad)}/{len(truth)} also on which sides sent close_notify"
          + (f", {extra} flows not in the truth" if extra else ""))
    sys.exit(1 if verdict_ok < len(truth) or extra else 0)


if __name__ == "__main__":
    main()
