#!/usr/bin/env python3
"""Reads a TensorBoard log directory with TensorBoard's own reader and prints its scalars as JSON.

    read_events.py DIR [--out FILE]

Output: {"tag": [[step, value], ...], ...}, tags sorted, points in step order. The check that
recur's event files are what TensorBoard reads (tests/tensorboard.rs compares the committed
pair); needs `pip install tensorboard`, so it is kept out of CI.
"""
import argparse
import json
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def scalars(logdir):
    # size_guidance 0: keep every point (the default samples 10,000 scalars per tag).
    acc = EventAccumulator(logdir, size_guidance={"scalars": 0})
    acc.Reload()
    return {
        tag: [[e.step, e.value] for e in acc.Scalars(tag)]
        for tag in sorted(acc.Tags()["scalars"])
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logdir")
    parser.add_argument("--out", help="write the JSON here instead of printing it")
    args = parser.parse_args()
    found = scalars(args.logdir)
    if not found:
        sys.exit(f"{args.logdir}: TensorBoard found no scalars there")
    # One tag a line: small diffs, still JSON.
    lines = [f"  {json.dumps(tag)}: {json.dumps(points)}" for tag, points in found.items()]
    text = "{\n" + ",\n".join(lines) + "\n}\n"
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
