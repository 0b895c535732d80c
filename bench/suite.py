#!/usr/bin/env python3
"""The benchmark suite: recur beside PyTorch and NumPy, model by model, on this machine.

For each model (ch05, ch06, small, medium, gru-medium, classify; see bench/README.md) it
launches, in rounds, one fresh process per implementation:

    recur          target/release/recur bench MODEL --json --threads T
    PyTorch        PY bench/pytorch/models.py MODEL --threads T          (torch.set_num_threads(T))
    NumPy          python3 bench/numpy_ch05.py bench | bench/numpy_ch06.py bench MODEL
                   with OPENBLAS/OMP/MKL_NUM_THREADS=T (no NumPy twin for classify)

and for the models of small matrices (ch05, ch06, classify) the references once more on 1
thread: there a second thread can cost more than it brings, above all on a busy machine, and
the summary compares recur with the faster of each reference's rows.

Each launch trains for --warmup seconds, then --repeats timed runs of --seconds, and reports
the median run's tokens/s and its peak resident memory (VmHWM). Rounds run every model once;
within a round each model's implementations start in a rotated order (round r starts with the
r-th), so none always runs first or last. The tables give the median over rounds. Each round
also measures the GEMM rate (`recur bench gemm`: 2048^3 and the medium model's shapes through
recur's matmul on T threads). Each recur launch also times the 2048^3 product right after its
training runs; a model's FLOP rate is given as a share of that rate, launch by launch.

    cargo build --release
    python3 bench/suite.py --python /tmp/torchenv/bin/python --rounds 5 --write-results

Standard library only; the PyTorch twin needs a Python with torch (--python), the NumPy twins
one with numpy (--numpy-python, default: this interpreter). This script builds nothing and
is not part of CI. --write-results rewrites bench/RESULTS.md.
"""

import argparse
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH_DIR)
RECUR = os.path.join(ROOT, "target", "release", "recur")
RESULTS = os.path.join(BENCH_DIR, "RESULTS.md")
BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

# name -> (description, NumPy script or None, the references also on 1 thread)
MODELS = {
    "ch05": ("the book's SimpleRnnlm: RNN (tanh) 100, embedding 100, V 418, batch 10 x 5, "
             "SGD, no clipping", "numpy_ch05.py", True),
    "ch06": ("the book's Rnnlm: LSTM 100, embedding 100, V 10,000, batch 20 x 35, SGD, clip 0.25",
             "numpy_ch06.py", True),
    "small": ("2 x LSTM 200, V 10,000, batch 20 x 20, SGD, clip 0.25", "numpy_ch06.py", False),
    "medium": ("2 x LSTM 650, tied embedding/decoder, V 10,000, batch 20 x 35, SGD, clip 0.25, "
               "no dropout", "numpy_ch06.py", False),
    "gru-medium": ("medium with GRU cells", "numpy_ch06.py", False),
    "char": ("PTB's character model: embedding 128, 2 x LSTM 512, V 51, batch 32 x 100, "
             "Adam lr 0.002, clip 5", None, False),
    "classify": ("embedding 100 + LSTM 128, final state -> sigmoid head, V 10,000, padded batches "
                 "of 64 texts of 1-100 words (tokens = real words), Adam lr 0.005, clip 5",
                 None, True),
}

# The targets, quoted as context for the tables (not acceptance tests of this suite).
TARGETS = {
    "ch05": [("pytorch", 10.0), ("numpy", 30.0)],
    "ch06": [("pytorch", 1.5), ("numpy", 4.0)],
    "medium": [("pytorch", 1.15), ("gemm", 0.80), ("memory", 1.0)],
    "gru-medium": [("pytorch", 1.15), ("gemm", 0.80)],
}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def sh(argv, timeout=30):
    try:
        p = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        return p.stdout.strip() if p.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def cpu_model():
    """The CPU's name, family and model, and its widest vector extension: the same name
    ("AMD EPYC" under a hypervisor) covers generations whose GEMM rates differ by 2x or more."""
    fields = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        return platform.processor() or "unknown"
    flags = fields.get("flags", "").split()
    vector = "AVX-512F" if "avx512f" in flags else "AVX2 + FMA" if {"avx2", "fma"} <= set(flags) else "no AVX2"
    return (f"{fields.get('model name', 'unknown')} (family {fields.get('cpu family', '?')}, "
            f"model {fields.get('model', '?')}; {vector})")


def cores():
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


def mem_total_gib():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return None


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "unavailable"


def git_commit():
    head = sh(["git", "rev-parse", "--short", "HEAD"])
    if not head:
        return "unknown"
    dirty = sh(["git", "status", "--porcelain", "--untracked-files=no"])
    return head + (" + uncommitted changes" if dirty else "")


class Launch:
    """One implementation of one model: what to run and how to print it."""

    def __init__(self, key, label, argv, env=None, shown=None):
        self.key, self.label, self.argv, self.env = key, label, argv, env or {}
        self.shown = shown or argv[0]  # how the program is written in the printed command

    def command_line(self):
        env = " ".join(f"{k}={v}" for k, v in self.env.items())
        return (env + " " if env else "") + " ".join(shlex.quote(a) for a in [self.shown] + self.argv[1:])

    def run(self, timeout):
        env = dict(os.environ)
        env.update(self.env)
        try:
            p = subprocess.run(self.argv, cwd=ROOT, env=env, capture_output=True, text=True,
                               timeout=timeout)
        except subprocess.TimeoutExpired:
            sys.exit(f"error: `{self.command_line()}` did not finish within {timeout:.0f} s")
        if p.returncode != 0:
            sys.exit(f"error: `{self.command_line()}` exited with status {p.returncode}:\n"
                     f"{(p.stderr or p.stdout).strip()[-2000:]}")
        for line in reversed(p.stdout.strip().splitlines()):
            if line.startswith("{"):
                try:
                    out = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if "tokens_per_s" in out or "gflops" in out:
                    return out
        sys.exit(f"error: no result line in the output of `{self.command_line()}`:\n"
                 f"{p.stdout.strip()[-2000:]}\n{p.stderr.strip()[-2000:]}")


def relative(argv0):
    return os.path.relpath(argv0, ROOT) if os.path.isabs(argv0) and argv0.startswith(ROOT) else argv0


def launches(name, args):
    timing = ["--warmup", f"{args.warmup:g}", "--repeats", str(args.repeats),
              "--seconds", f"{args.seconds:g}"]
    t = str(args.threads)
    out = [Launch("recur", "recur", [relative(RECUR), "bench", name, "--json", "--threads", t]
                  + timing)]
    _, script, one_thread = MODELS[name]
    one_thread = one_thread and args.threads != 1
    if args.python:
        argv = [args.python, "bench/pytorch/models.py", name] + timing
        out.append(Launch("pytorch", f"PyTorch ({t} threads)", argv + ["--threads", t]))
        if one_thread:
            out.append(Launch("pytorch-1", "PyTorch (1 thread)", argv + ["--threads", "1"]))
    if script and args.numpy_python:
        argv = [args.numpy_python, f"bench/{script}", "bench"]
        argv += ["--vocab", "418"] if script == "numpy_ch05.py" else [name]
        argv += timing + ["--json"]
        shown = "python3" if args.numpy_python == sys.executable else args.numpy_python
        out.append(Launch("numpy", f"NumPy ({t} BLAS threads)", argv, {k: t for k in BLAS_VARS},
                          shown))
        if one_thread:
            out.append(Launch("numpy-1", "NumPy (1 BLAS thread)", argv, {k: "1" for k in BLAS_VARS},
                              shown))
    return out


def gemm_launch(args):
    return Launch("gemm", "recur bench gemm",
                  [relative(RECUR), "bench", "gemm", "--json", "--threads", str(args.threads),
                   "--warmup", "0.2", "--repeats", "3", "--seconds", f"{args.gemm_seconds:g}"])


def fmt(x, digits=0):
    return "-" if x is None else f"{x:,.{digits}f}"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def fmt_ratio(x):
    return "-" if x is None else f"{x:.2f}x"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--python", help="a Python with torch for the PyTorch twins (default: none)")
    ap.add_argument("--numpy-python", default=sys.executable,
                    help="a Python with numpy for the NumPy twins (default: this one; '' for none)")
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated (default: all)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per launch (default 3)")
    ap.add_argument("--seconds", type=float, default=2.0, help="length of a timed run (default 2)")
    ap.add_argument("--warmup", type=float, default=1.0, help="untimed seconds per launch (default 1)")
    ap.add_argument("--threads", type=int, default=2, help="threads of every implementation (default 2)")
    ap.add_argument("--gemm-seconds", type=float, default=1.0,
                    help="length of a timed run of each GEMM shape (default 1)")
    ap.add_argument("--write-results", action="store_true", help="rewrite bench/RESULTS.md")
    args = ap.parse_args()
    names = [n for n in args.models.split(",") if n]
    for n in names:
        if n not in MODELS:
            ap.error(f"unknown model {n!r}; choose from {', '.join(MODELS)}")
    if args.rounds < 1 or args.repeats < 1 or not args.seconds > 0 or args.warmup < 0 \
            or args.threads < 1 or not args.gemm_seconds > 0:
        ap.error("--rounds, --repeats, --seconds, --threads, --gemm-seconds must be positive")
    if not os.access(RECUR, os.X_OK):
        sys.exit(f"error: {RECUR} not found; run `cargo build --release` first (in {ROOT})")
    torch_version = None
    if args.python:
        torch_version = sh([args.python, "-c", "import torch; print(torch.__version__)"], 120)
        if not torch_version:
            sys.exit(f"error: `{args.python} -c 'import torch'` failed; pass a Python with torch")
    numpy_version = None
    if args.numpy_python:
        numpy_version = sh([args.numpy_python, "-c", "import numpy; print(numpy.__version__)"])
        if not numpy_version:
            sys.exit(f"error: `{args.numpy_python} -c 'import numpy'` failed")

    plan = {n: launches(n, args) for n in names}
    gemm = gemm_launch(args)
    # a slow NumPy step (several seconds on a busy machine) may overrun a run's budget
    timeout = 300 + 10 * (args.warmup + args.repeats * args.seconds)
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = loadavg()
    log(f"{args.rounds} rounds of {sum(len(v) for v in plan.values())} launches + the GEMM; "
        f"each launch {args.warmup:g} s + {args.repeats} x {args.seconds:g} s; load {load_before}")

    results = {n: {l.key: [] for l in plan[n]} for n in names}
    gemm_runs = []
    orders = {n: [] for n in names}
    for r in range(args.rounds):
        out = gemm.run(timeout)
        gemm_runs.append(out)
        log(f"round {r + 1}/{args.rounds} gemm: {out['gflops']:.1f} GFLOP/s (2048^3)")
        for n in names:
            k = r % len(plan[n])
            order = plan[n][k:] + plan[n][:k]
            orders[n].append([l.key for l in order])
            for l in order:
                out = l.run(timeout)
                results[n][l.key].append(out)
                log(f"round {r + 1}/{args.rounds} {n:<10} {l.label:<24} "
                    f"{out['tokens_per_s']:>10,.0f} tokens/s  peak {fmt(out.get('peak_rss_mib'))} MiB")
    load_after = loadavg()
    finished = datetime.datetime.now(datetime.timezone.utc)

    text = report(args, names, plan, results, orders, gemm, gemm_runs, started, finished,
                  load_before, load_after, torch_version, numpy_version)
    print(text)
    if args.write_results:
        fd, tmp = tempfile.mkstemp(prefix=".RESULTS.", suffix=".md.tmp", dir=BENCH_DIR)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, RESULTS)
        log(f"wrote {os.path.relpath(RESULTS)}")


def load_caution(load_before, load_after, ncores, gemm_rate):
    """A warning paragraph when the 1-minute load average reached the core count, else None."""
    try:
        loads = [float(load_before.split()[0]), float(load_after.split()[0])]
    except (ValueError, IndexError):
        return None
    if not ncores or max(loads) < ncores:
        return None
    return (f"**Caution: a busy machine.** The 1-minute load average was {loads[0]:.2f} before and "
            f"{loads[1]:.2f} after the run, on {ncores} cores: other processes were competing for "
            f"the cores, so every figure here is depressed (the GEMM rate measured, "
            f"{gemm_rate:.1f} GFLOP/s, compares with the idle-machine figures of "
            "[GEMM.md](GEMM.md)), multi-threaded runs suffer most, and the ratios carry the noise "
            "shown by the per-round figures. Read the \"met / not met\" marks as provisional and "
            "re-run on an idle machine for figures to quote.")


def summarise(outs):
    """Median tokens/s and peak memory over the rounds of one implementation."""
    peaks = [o["peak_rss_mib"] for o in outs if o.get("peak_rss_mib") is not None]
    return {
        "tps": statistics.median(o["tokens_per_s"] for o in outs),
        "rounds": [o["tokens_per_s"] for o in outs],
        "peak": statistics.median(peaks) if peaks else None,
        "start": statistics.median(o["start_rss_mib"] for o in outs) if all(
            o.get("start_rss_mib") is not None for o in outs) else None,
        "last": outs[-1],
        # recur's launches also time the GEMM right after their runs: the share of that rate,
        # launch by launch (the machine's speed drifts between launches).
        "share": statistics.median(o["gflops"] / o["gemm_gflops"] for o in outs)
        if all(o.get("gemm_gflops") for o in outs) else None,
    }


def report(args, names, plan, results, orders, gemm, gemm_runs, started, finished,
           load_before, load_after, torch_version, numpy_version):
    gemm_rate = statistics.median(o["gflops"] for o in gemm_runs)
    shapes = gemm_runs[0]["shapes"]
    shape_rates = [statistics.median(o["shapes"][i]["gflops"] for o in gemm_runs)
                   for i in range(len(shapes))]
    t = args.threads
    cmd = "python3 bench/suite.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])

    s = {n: {key: summarise(outs) for key, outs in results[n].items()} for n in names}

    def best(n, key):
        """The faster of a reference's rows (T threads, 1 thread), or None."""
        rows = [s[n][k] for k in (key, key + "-1") if k in s[n]]
        return max(rows, key=lambda x: x["tps"]) if rows else None

    lines = [
        "# recur benchmark suite: training speed and memory beside PyTorch and NumPy",
        "",
        f"Measured {started:%Y-%m-%d %H:%M}-{finished:%H:%M} UTC by `bench/suite.py` "
        "(this file is rewritten by `--write-results`; earlier single-model figures are in "
        "[HISTORY.md](HISTORY.md)).",
        "",
        "What is measured: tokens per second of the whole training step (forward, backward, "
        "gradient clipping where the model clips, optimizer update; the recurrent state carried "
        "between the language models' blocks) on synthetic data, float32, every implementation "
        f"on {t} threads (recur's GEMM pool, `torch.set_num_threads({t})`, "
        f"`OPENBLAS_NUM_THREADS={t}`), and the peak resident memory (`VmHWM`) of each process, "
        "one fresh process per model and implementation (the model sections also give the "
        "resident memory at start, before the model is built, which for PyTorch is after "
        "`import torch`, and the growth from there). Each launch warms up for "
        f"{args.warmup:g} s, then times {args.repeats} runs of {args.seconds:g} s (each ends at "
        "the first step past its budget) and reports the median run; the implementations are "
        f"launched alternately in {args.rounds} rounds (order rotated each round) and the "
        "tables give the median over rounds. Models and twins: [README.md](README.md).",
        "",
        "FLOP counts are of the matrix products only (2 M N K per product; backward = 2 x "
        "forward, so forward + backward = 3 x forward's products): per token, "
        "3 x [sum over layers of 2 G H (I + H) + 2 H V] for the language models (G = 1 RNN, "
        "3 GRU, 4 LSTM; I = the layer's input width), 3 x [2 x 4 H (D + H)] per real word plus "
        "the head for classify. The achieved rate is tokens/s x FLOP/token, given as a share of "
        "the measured GEMM rate: one 2048 x 2048 x 2048 f32 product through "
        f"`recur::tensor::matmul` on {t} threads, timed by each recur launch right after its "
        f"training runs ({args.repeats} x 0.5 s, after the peak memory is read); the share is the median over "
        "the rounds of each launch's model rate over its own GEMM rate, so that the machine's "
        "speed drifting between launches does not skew it. The separate GEMM launches at the "
        f"start of each round (median {fmt(gemm_rate, 1)} GFLOP/s) and the medium model's shapes "
        "are under \"GEMM rate\" below.",
        "",
    ]
    caution = load_caution(load_before, load_after, cores(), gemm_rate)
    if caution:
        lines += [caution, ""]
    lines += [
        "## Summary",
        "",
        "| model | recur tokens/s | PyTorch tokens/s | NumPy tokens/s | recur / PyTorch | "
        "recur / NumPy | MFLOP/token | recur GFLOP/s | share of GEMM rate | peak MiB recur / "
        "PyTorch / NumPy | memory recur / PyTorch |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    def share(rec):
        """recur's share of the GEMM rate: of its own launches' (median over rounds) when they
        measured it, else of the separate GEMM launches' median."""
        if rec["share"] is not None:
            return rec["share"]
        return rec["tps"] * rec["last"]["flops_per_token"] / 1e9 / gemm_rate

    for n in names:
        rec, pt, npb = s[n]["recur"], best(n, "pytorch"), best(n, "numpy")
        fpt = rec["last"]["flops_per_token"]
        gf = rec["tps"] * fpt / 1e9
        lines.append(
            f"| {n} | {fmt(rec['tps'])} | {fmt(pt and pt['tps'])} | {fmt(npb and npb['tps'])} | "
            f"{fmt_ratio(ratio(rec['tps'], pt and pt['tps']))} | "
            f"{fmt_ratio(ratio(rec['tps'], npb and npb['tps']))} | {fpt / 1e6:.2f} | {gf:.1f} | "
            f"{100 * share(rec):.0f}% | {fmt(rec['peak'])} / {fmt(pt and pt['peak'])} / "
            f"{fmt(npb and npb['peak'])} | {fmt_ratio(ratio(rec['peak'], pt and pt['peak']))} |")
    lines += [
        "",
        "PyTorch and NumPy columns: the faster of each reference's rows (ch05, ch06 and classify "
        "also run them on 1 thread; the model sections give every row), memory of that row. "
        "classify has no NumPy twin (the book has no such model). \"-\": not run.",
        "",
    ]
    if "medium" in names and "gru-medium" in names:
        m, g = s["medium"]["recur"], s["gru-medium"]["recur"]
        fm, fg = m["last"]["flops_per_token"], g["last"]["flops_per_token"]
        lines += [
            f"GRU vs LSTM at equal sizes (recur): gru-medium trains at {fmt(g['tps'])} tokens/s, "
            f"medium at {fmt(m['tps'])}: a GRU token costs {m['tps'] / g['tps']:.2f}x an LSTM "
            f"token's time, for {fg / fm:.2f}x its FLOPs "
            f"({fg / 1e6:.2f} vs {fm / 1e6:.2f} MFLOP/token; achieved "
            f"{g['tps'] * fg / 1e9:.1f} vs {m['tps'] * fm / 1e9:.1f} GFLOP/s)."
            + (f" PyTorch: {s['gru-medium']['pytorch']['tps'] / s['medium']['pytorch']['tps']:.2f}x "
               f"the LSTM's tokens/s for GRU." if "pytorch" in s["medium"] else ""),
            "",
        ]

    # The targets, as context.
    target_lines = []
    for n, goals in TARGETS.items():
        if n not in s:
            continue
        rec = s[n]["recur"]
        for what, goal in goals:
            if what == "pytorch" and best(n, "pytorch"):
                got = rec["tps"] / best(n, "pytorch")["tps"]
                target_lines.append(f"- {n}: recur / PyTorch >= {goal:g}x: measured {got:.2f}x "
                                    f"({'met' if got >= goal else 'not met'})")
            elif what == "numpy" and best(n, "numpy"):
                got = rec["tps"] / best(n, "numpy")["tps"]
                target_lines.append(f"- {n}: recur / NumPy >= {goal:g}x: measured {got:.2f}x "
                                    f"({'met' if got >= goal else 'not met'})")
            elif what == "gemm":
                got = share(rec)
                target_lines.append(
                    f"- {n}: >= {100 * goal:.0f}% of the measured GEMM rate on the model's FLOP count "
                    f"({rec['last']['flops_per_token'] / 1e6:.2f} MFLOP/token): measured "
                    f"{100 * got:.0f}% ({'met' if got >= goal else 'not met'})")
            elif what == "memory" and "pytorch" in s[n] and rec["peak"] and s[n]["pytorch"]["peak"]:
                got = rec["peak"] / s[n]["pytorch"]["peak"]
                target_lines.append(
                    f"- {n}: peak memory no higher than PyTorch's: {fmt(rec['peak'])} vs "
                    f"{fmt(s[n]['pytorch']['peak'])} MiB ({'met' if got <= goal else 'not met'})")
    if "medium" in s and "gru-medium" in s:
        cost = s["medium"]["recur"]["tps"] / s["gru-medium"]["recur"]["tps"]
        target_lines.append(f"- GRU costs no more than LSTM at equal sizes: gru-medium token time "
                            f"{cost:.2f}x medium's ({'met' if cost <= 1.0 else 'not met'})")
    if target_lines:
        lines += ["The issue's targets, marked from this run's medians (bench/README.md, \"The targets\", "
                  "says which cannot be reached on this machine and why):", ""] + target_lines + [""]

    lines += ["## Models", ""]
    for n in names:
        desc = MODELS[n][0]
        rec = s[n]["recur"]
        fpt = rec["last"]["flops_per_token"]
        lines += [
            f"### {n}",
            "",
            f"{desc[0].upper() + desc[1:]}. {fpt / 1e6:.3f} MFLOP per token.",
            "",
            "| implementation | tokens/s | per round | recur / that | achieved GFLOP/s | peak MiB "
            "| MiB at start | peak - start | recur memory / that |",
            "|---|---:|---|---:|---:|---:|---:|---:|---:|",
        ]
        for l in plan[n]:
            x = s[n][l.key]
            lines.append(
                f"| {l.label} | {fmt(x['tps'])} | {', '.join(fmt(v) for v in x['rounds'])} | "
                f"{fmt_ratio(rec['tps'] / x['tps'])} | {x['tps'] * fpt / 1e9:.2f} | "
                f"{fmt(x['peak'])} | {fmt(x['start'])} | "
                f"{fmt(x['peak'] - x['start'] if x['peak'] and x['start'] else None)} | "
                f"{fmt_ratio(ratio(rec['peak'], x['peak']))} |")
        extra = rec["last"]
        if n == "classify":
            lines += ["", f"{extra['words_per_step']:.0f} real words per batch on average; "
                      f"{100 * extra['padded_share']:.0f}% of each padded batch is padding (recur's "
                      "time loop steps every row to the batch's longest text; PyTorch's packed "
                      "sequence skips the finished rows). Rates count real words only."]
        lines += ["", "Round order: " + "; ".join(" -> ".join(o) for o in orders[n]), ""]

    lines += [
        "## GEMM rate",
        "",
        f"`recur bench gemm` ({t} threads), median over the rounds of each launch's median:",
        "",
        "| product (M x K)(K x N) | GFLOP/s |",
        "|---|---:|",
    ]
    for sh_, rate in zip(shapes, shape_rates):
        lines.append(f"| {sh_['name']} | {rate:.1f} |")
    lines += [
        "",
        "## Machine",
        "",
        f"- CPU: {cpu_model()}; cores available: {cores()}; memory: "
        f"{fmt(mem_total_gib(), 1)} GiB",
        f"- load average (1/5/15 min) before: {load_before}; after: {load_after}",
        f"- OS: {platform.system()} {platform.release()}",
        f"- recur commit: {git_commit()}; {sh(['rustc', '--version']) or 'rustc unknown'}",
        f"- PyTorch: {torch_version or 'not run'}; NumPy: {numpy_version or 'not run'}; "
        f"Python (suite): {platform.python_version()}",
        "",
        "The machine may be shared: compare the load averages with the core count and the "
        "per-round spread to judge the noise.",
        "",
        "## Commands",
        "",
        "From the repository root:",
        "",
        "```sh",
        "cargo build --release",
        cmd,
        "```",
        "",
        "which launches, per round (GEMM first, then model by model in rotated order):",
        "",
        "```sh",
        gemm.command_line(),
    ]
    for n in names:
        lines += [l.command_line() for l in plan[n]]
    lines += ["```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
