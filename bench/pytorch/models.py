#!/usr/bin/env python3
"""PyTorch twins of `recur bench`'s models: tokens/s of the training step and peak memory.

    python bench/pytorch/models.py MODEL [--threads 2] [--warmup 1] [--repeats 5] [--seconds 2]

MODEL is one of (the same sizes, step and update as `recur bench MODEL`):

    ch05        nn.RNN(tanh) 100, V 418, embedding 100, batch 10 x 5, SGD lr 0.1, no clipping
    ch06        nn.LSTM 100, V 10,000, embedding 100, batch 20 x 35, SGD lr 0.1, clip 0.25
    small       2 x nn.LSTM 200, V 10,000, batch 20 x 20, SGD lr 0.1, clip 0.25
    medium      2 x nn.LSTM 650, tied, V 10,000, batch 20 x 35, SGD lr 0.1, clip 0.25
    gru-medium  medium with nn.GRU
    char        embedding 128, 2 x nn.LSTM 512, V 51, batch 32 x 100, torch.optim.Adam lr 0.002,
                clip 5 (PTB read as characters)
    classify    nn.Embedding(10,000, 100) + nn.LSTM(100, 128, batch_first) over
                pack_padded_sequence, final h -> nn.Linear(128, 1) -> BCEWithLogits; batches of
                64 texts of 1-100 words (the same lengths and labels as recur's, from SplitMix64),
                Adam lr 0.005, clip 5

The language models are bench/pytorch/word_lm.py's RNNModel (the word_language_model example's
model) with dropout 0, trained with the state carried and detached between blocks, as recur's
truncated BPTT does, on 10 random batches cycled through. One step: zero_grad, forward, mean
cross-entropy, backward, clip_grad_norm_ (where recur clips), optimizer step.

Timing: steps for --warmup seconds (at least one), then --repeats runs of --seconds; each run
ends at the first step past its budget; the median run is reported. Tokens: batch x time for the
language models, real (unpadded) words for classify. Memory: VmHWM of /proc/self/status at the
end (peak resident set of this process, the interpreter and torch included) and VmRSS after
`import torch`, before the model is built.

Prints one JSON line: impl, model, tokens_per_s, runs, peak_rss_mib, start_rss_mib, threads,
torch, final_loss.
"""

import argparse
import json
import os
import statistics
import sys
import time


# The benchmark folder (procstat) and this one (word_lm) on the path; nothing of ours runs
# before `import torch`, so the start RSS below is the runtime's alone.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from procstat import status_mib  # noqa: E402

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.nn.utils.rnn import pack_padded_sequence  # noqa: E402

START_RSS = status_mib("VmRSS:")

from word_lm import RNNModel, detach  # noqa: E402

# name -> (cell, vocab, width, layers, tied, batch, time, clip); SGD lr 0.1 for all but char.
LMS = {
    "char": ("LSTM", 51, 512, 2, False, 32, 100, 5.0),
    "ch05": ("RNN_TANH", 418, 100, 1, False, 10, 5, None),
    "ch06": ("LSTM", 10_000, 100, 1, False, 20, 35, 0.25),
    "small": ("LSTM", 10_000, 200, 2, False, 20, 20, 0.25),
    "medium": ("LSTM", 10_000, 650, 2, True, 20, 35, 0.25),
    "gru-medium": ("GRU", 10_000, 650, 2, True, 20, 35, 0.25),
}
LM_LR = 0.1
# The character model: embedding 128 (the others' embedding is their width), Adam lr 0.002.
CHAR_EMBED, CHAR_LR = 128, 0.002
LM_BATCHES = 10

CLS_VOCAB, CLS_EMBED, CLS_HIDDEN = 10_000, 100, 128
CLS_BATCH, CLS_MAX_LEN, CLS_BATCHES = 64, 100, 10
CLS_LR, CLS_CLIP = 0.005, 5.0

MASK64 = (1 << 64) - 1


def splitmix64(x):
    """SplitMix64 of x, as recur's bench (src/cli/bench.rs) computes it."""
    z = (x + 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def time_steps(warmup, repeats, seconds, step):
    """Tokens/s of each timed run; `step()` trains one batch and returns its tokens."""
    def run(budget):
        start = time.perf_counter()
        tokens = 0
        while True:
            tokens += step()
            elapsed = time.perf_counter() - start
            if elapsed >= budget:
                return tokens / elapsed

    if warmup > 0:
        run(warmup)
    return [run(seconds) for _ in range(repeats)]


def language_model(name, args):
    cell, vocab, width, layers, tied, batch, bptt, clip = LMS[name]
    embed = CHAR_EMBED if name == "char" else width
    model = RNNModel(cell, vocab, embed, width, layers, 0.0, tied)
    model.train()
    if name == "char":
        opt = torch.optim.Adam(model.parameters(), lr=CHAR_LR)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=LM_LR)
    # Sequence-first (T, N) blocks, as RNNModel reads them; block k's targets are one row later.
    data = torch.randint(0, vocab, (LM_BATCHES * bptt + 1, batch))
    hidden = model.init_hidden(batch)
    k = 0
    last = [None]

    def step():
        nonlocal hidden, k
        i = (k % LM_BATCHES) * bptt
        k += 1
        x, t = data[i:i + bptt], data[i + 1:i + 1 + bptt].reshape(-1)
        hidden = detach(hidden)
        opt.zero_grad()
        logits, hidden = model(x, hidden)
        loss = F.cross_entropy(logits, t)
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        last[0] = loss
        return batch * bptt

    runs = time_steps(args.warmup, args.repeats, args.seconds, step)
    return runs, last[0].item()


class Classifier(nn.Module):
    """Embedding -> LSTM over the packed batch -> final h -> Linear(H, 1) (a logit)."""

    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(CLS_VOCAB, CLS_EMBED)
        self.rnn = nn.LSTM(CLS_EMBED, CLS_HIDDEN, batch_first=True)
        self.fc = nn.Linear(CLS_HIDDEN, 1)

    def forward(self, ids, lengths):
        packed = pack_padded_sequence(self.embedding(ids), lengths, batch_first=True,
                                      enforce_sorted=False)
        _, (h, _) = self.rnn(packed)
        return self.fc(h[-1]).squeeze(1)


def classifier_batches():
    """recur's texts: text i has 1 + splitmix64(2i) % 100 words, label splitmix64(2i+1) % 2;
    the words are uniform over 1..V-1 (torch's generator: which words does not change the cost)."""
    batches = []
    for b in range(CLS_BATCHES):
        rows = range(b * CLS_BATCH, (b + 1) * CLS_BATCH)
        lengths = torch.tensor([1 + splitmix64(2 * i) % CLS_MAX_LEN for i in rows], dtype=torch.int64)
        labels = torch.tensor([float(splitmix64(2 * i + 1) % 2) for i in rows])
        ids = torch.zeros(CLS_BATCH, int(lengths.max()), dtype=torch.int64)
        for r, n in enumerate(lengths.tolist()):
            ids[r, :n] = torch.randint(1, CLS_VOCAB, (n,))
        batches.append((ids, lengths, labels, int(lengths.sum())))
    return batches


def classify(args):
    model = Classifier()
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=CLS_LR)
    batches = classifier_batches()
    k = 0
    last = [None]

    def step():
        nonlocal k
        ids, lengths, labels, words = batches[k % CLS_BATCHES]
        k += 1
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(ids, lengths), labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), CLS_CLIP)
        opt.step()
        last[0] = loss
        return words

    runs = time_steps(args.warmup, args.repeats, args.seconds, step)
    return runs, last[0].item()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", choices=list(LMS) + ["classify"])
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--warmup", type=float, default=1.0, help="untimed seconds first (default 1)")
    ap.add_argument("--repeats", type=int, default=5, help="timed runs (default 5)")
    ap.add_argument("--seconds", type=float, default=2.0, help="length of each timed run (default 2)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if args.repeats < 1 or not args.seconds > 0 or args.warmup < 0 or args.threads < 1:
        ap.error("--repeats, --seconds and --threads must be positive, --warmup not negative")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    if args.model == "classify":
        runs, loss = classify(args)
    else:
        runs, loss = language_model(args.model, args)
    print(json.dumps({
        "impl": "pytorch", "model": args.model,
        "tokens_per_s": statistics.median(runs), "runs": runs,
        "peak_rss_mib": status_mib("VmHWM:"), "start_rss_mib": START_RSS,
        "threads": torch.get_num_threads(), "torch": torch.__version__, "final_loss": loss,
    }), flush=True)


if __name__ == "__main__":
    main()
