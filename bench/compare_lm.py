#!/usr/bin/env python3
"""Side-by-side training speed of the LSTM language models: recur vs PyTorch on the CPU.

One invocation runs, alternating in rounds (the starting implementation rotates), the
full training step (forward + backward + clip 0.25 + SGD update, state carried) of:

    ch06     the book's Rnnlm: LSTM 100, V 10,000, batch 20 x 35      (preset book-ch6)
    medium   2 x LSTM 650, tied, V 10,000, batch 20 x 35, no dropout  (pytorch-650-tied's step)

in recur (`target/release/recur bench MODEL --json`, its own 2 cores through the GEMM's
threads) and in PyTorch (`bench/pytorch/word_lm.py bench`, torch.set_num_threads(2)).
Each launch reports the median of its timed repeats after warm-up; the table gives the
median over rounds and the ratio recur / PyTorch.

    cargo build --release
    python3 bench/compare_lm.py --python /tmp/torchenv/bin/python --rounds 3 --write-results

Needs a Python with torch and safetensors for the reference (--python); writes
bench/RESULTS-lm.md with --write-results.
"""

import argparse
import datetime
import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare as base  # noqa: E402  (shared launch, machine and git helpers)

RESULTS = os.path.join(base.BENCH_DIR, "RESULTS-lm.md")
WORD_LM = os.path.join("bench", "pytorch", "word_lm.py")

# name -> (recur bench model, word_lm.py bench flags, recur seconds per timed run, PyTorch steps)
MODELS = {
    "ch06": ("ch06", ["--model", "LSTM", "--emsize", "100", "--nhid", "100", "--nlayers", "1",
                      "--batch-size", "20", "--bptt", "35"], 3.0, 20),
    "medium": ("medium", ["--model", "LSTM", "--emsize", "650", "--nhid", "650", "--nlayers", "2",
                          "--tied", "--batch-size", "20", "--bptt", "35"], 5.0, 6),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--python", default=sys.executable, help="a Python with torch installed")
    ap.add_argument("--models", default="ch06,medium")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per launch")
    ap.add_argument("--threads", type=int, default=2, help="PyTorch threads")
    ap.add_argument("--write-results", action="store_true")
    args = ap.parse_args()
    names = args.models.split(",")
    for n in names:
        if n not in MODELS:
            ap.error(f"unknown model {n!r}; choose from {', '.join(MODELS)}")
    if not os.access(base.RECUR, os.X_OK):
        sys.exit(f"error: {base.RECUR} not found; run `cargo build --release` first")

    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = base.loadavg()
    medians, commands, torch_version = {}, [], None
    for name in names:
        model, flags, seconds, steps = MODELS[name]
        impls = [
            ("recur", [os.path.relpath(base.RECUR, base.ROOT), "bench", model, "--json",
                       "--repeats", str(args.repeats), "--seconds", str(seconds)]),
            ("pytorch", [args.python, WORD_LM, "bench", *flags, "--vocab", "10000",
                         "--threads", str(args.threads), "--warmup", "3", "--steps", str(steps),
                         "--repeats", str(args.repeats)]),
        ]
        commands += [" ".join(argv) for _, argv in impls]
        runs = {key: [] for key, _ in impls}
        for r in range(args.rounds):
            order = impls[r % 2:] + impls[:r % 2]
            for key, argv in order:
                out = base.run_once(argv, {}, (), timeout=900)
                runs[key].append(out["tokens_per_s"])
                torch_version = torch_version or out.get("torch")
                base.log(f"{name} round {r + 1}/{args.rounds} {key:<8} {out['tokens_per_s']:10,.0f} tokens/s")
        medians[name] = {key: statistics.median(v) for key, v in runs.items()}
        medians[name]["runs"] = runs

    rows = ["| model | recur tokens/s | PyTorch tokens/s | recur / PyTorch |", "| --- | ---: | ---: | ---: |"]
    for name in names:
        m = medians[name]
        rows.append(f"| {name} | {m['recur']:,.0f} | {m['pytorch']:,.0f} | {m['recur'] / m['pytorch']:.2f} |")
    table = "\n".join(rows)
    print(table)
    if args.write_results:
        text = "\n".join([
            "# LSTM language models: recur vs PyTorch (CPU)",
            "",
            f"Measured {started:%Y-%m-%d %H:%M} UTC by `python3 bench/compare_lm.py --rounds {args.rounds} "
            f"--repeats {args.repeats} --write-results` at commit {base.git_commit()}.",
            f"Machine: {base.cpu_model()}, {base.nproc()} cores; load average before {load_before}, "
            f"after {base.loadavg()}. PyTorch {torch_version}, {args.threads} threads.",
            "",
            "Tokens per second of the full training step (forward, backward, clip 0.25, SGD update), "
            "median over rounds of each launch's median:",
            "",
            table,
            "",
            "Per-round figures: " + "; ".join(
                f"{n}: recur {[round(x) for x in medians[n]['runs']['recur']]}, "
                f"PyTorch {[round(x) for x in medians[n]['runs']['pytorch']]}" for n in names),
            "",
            "Commands (from the repository root):",
            "",
            "```",
            *commands,
            "```",
            "",
        ])
        fd, tmp = tempfile.mkstemp(prefix=".RESULTS-lm.", suffix=".md.tmp", dir=base.BENCH_DIR)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, RESULTS)
        base.log(f"wrote {os.path.relpath(RESULTS)}")


if __name__ == "__main__":
    main()
