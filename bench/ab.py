#!/usr/bin/env python3
"""Compare two or more recur binaries on one benchmark model: A/B timing of a code change.

    cargo build --release && cp target/release/recur /tmp/recur-before
    ... change the code ...
    cargo build --release && cp target/release/recur /tmp/recur-after
    python3 bench/ab.py ch06 --rounds 4 /tmp/recur-before /tmp/recur-after

Each round launches every binary once (`recur bench MODEL --json`), in an order rotated from
round to round, so slow phases of a shared machine fall on every binary alike; the report gives
each binary's median over the rounds, its ratio to the first binary's, and every round's figure;
then, for each binary after the first, the median of its round-by-round ratios to the first (the
two launches of a round are adjacent in time, so a slow phase falls on both) and their quartiles.
On these 2-core shared machines one launch varies by 10-25% from minute to minute: read a ratio
inside the spread of the per-round figures as "no measurable difference".
"""

import argparse
import json
import statistics
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="a `recur bench` model: ch05, ch06, small, medium, gru-medium, classify")
    ap.add_argument("binaries", nargs="+", help="recur executables; the first is the baseline")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per launch (default 3)")
    ap.add_argument("--seconds", type=float, default=1.5, help="length of a timed run (default 1.5)")
    args = ap.parse_args()

    runs = {b: [] for b in args.binaries}
    for r in range(args.rounds):
        k = r % len(args.binaries)
        for b in args.binaries[k:] + args.binaries[:k]:
            argv = [b, "bench", args.model, "--json", "--repeats", str(args.repeats),
                    "--seconds", str(args.seconds), "--warmup", "1"]
            p = subprocess.run(argv, capture_output=True, text=True)
            if p.returncode != 0:
                sys.exit(f"error: {' '.join(argv)} exited with {p.returncode}:\n{p.stderr}")
            runs[b].append(json.loads(p.stdout.strip().splitlines()[-1])["tokens_per_s"])
    base = statistics.median(runs[args.binaries[0]])
    for b in args.binaries:
        m = statistics.median(runs[b])
        print(f"{b}: {m:,.0f} tokens/s (x{m / base:.3f}); rounds {', '.join(f'{x:,.0f}' for x in runs[b])}")
    # The launches of one round ran one after the other, so a slow phase of the machine slows
    # both: the ratio within each round cancels most of it, and the median of those ratios is
    # steadier than the ratio of the medians above.
    for b in args.binaries[1:]:
        ratios = sorted(x / y for x, y in zip(runs[b], runs[args.binaries[0]]))
        quartiles = statistics.quantiles(ratios, n=4) if len(ratios) >= 2 else [ratios[0]] * 3
        print(f"{b}: paired ratio x{statistics.median(ratios):.3f} (round by round, quartiles "
              f"{quartiles[0]:.3f}-{quartiles[2]:.3f}); {', '.join(f'{r:.3f}' for r in ratios)}")


if __name__ == "__main__":
    main()
