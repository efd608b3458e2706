#!/usr/bin/python3
"""The median of each SegXAI/peer ratio over the rounds compare.sh ran.

    /usr/bin/python3 tests/bench/peers/summarise_rounds.py OUT_DIR

Reads OUT_DIR/segxai_r*.json (bench_peers --json of each round, with a "ratios" table per
peer run) and prints, per ratio, the median, the range and the rounds' values. A peer run's
label loses its _rN suffix, so that the rounds of one kind of run are pooled. The machine's
speed drifts over minutes, so each round times the peers and SegXAI back to back and only
ratios within a round are formed; the median over rounds is the figure to quote.
"""
import glob
import json
import os
import re
import statistics
import sys


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    files = sorted(glob.glob(os.path.join(sys.argv[1], "segxai_r*.json")),
                   key=lambda f: int(re.search(r"_r(\d+)\.json$", f).group(1)))
    if not files:
        sys.exit(f"no segxai_r*.json in {sys.argv[1]}")
    pooled = {}  # (peer run, key) -> {"what", "target", "values"}
    for f in files:
        with open(f) as handle:
            result = json.load(handle)
        for label, ratios in result.get("ratios", {}).items():
            run = re.sub(r"_r\d+$", "", label)
            for key, r in ratios.items():
                entry = pooled.setdefault((run, key), {"what": r["what"], "target": r["target"], "values": []})
                entry["values"].append(r["ratio"])
    print(f"\nratios over {len(files)} rounds (median, range, each round)")
    current = None
    for (run, key), entry in pooled.items():
        if run != current:
            current = run
            print(f"\nagainst {run}")
            print(f"{'ratio':<20} {'what':<34} {'median':>7} {'range':>15}  {'target':<22} rounds")
        v = entry["values"]
        print(f"{key:<20} {entry['what']:<34} {statistics.median(v):7.3f} {min(v):7.3f}-{max(v):<7.3f}  "
              f"{entry['target']:<22} {' '.join(f'{x:.3f}' for x in v)}")


if __name__ == "__main__":
    main()
