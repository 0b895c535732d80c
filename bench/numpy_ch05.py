#!/usr/bin/env python3
"""NumPy reference for the chapter-5 RNN language model of
"Deep Learning from Scratch 2" (SimpleRnnlm + the chapter's custom training loop).

Written independently from the algorithm description; it is the speed and
perplexity reference that `recur` is compared against.

Model (all float32):
    TimeEmbedding(V, D) -> TimeRNN(D, H, stateful) -> TimeAffine(H, V)
    -> TimeSoftmaxWithLoss (mean cross entropy, targets == -1 ignored)
Optimiser: plain SGD, param -= lr * grad.

Subcommands:
    train   train on PTB (ptb.train.txt) and print `epoch N | perplexity X`
    bench   tokens/s of forward+backward+update on a synthetic corpus
"""

import argparse
import json
import math
import os
import statistics
import sys
import time

import numpy as np

from procstat import status_mib

F32 = np.float32


# --------------------------------------------------------------------------
# model
# --------------------------------------------------------------------------
class Rnnlm:
    """Embedding -> stateful tanh RNN -> affine -> softmax cross entropy."""

    def __init__(self, vocab, wordvec, hidden, seed=None):
        if seed is not None:
            np.random.seed(seed)
        V, D, H = vocab, wordvec, hidden
        randn = np.random.randn
        # initialisation order matters for reproducibility: embed, Wx, Wh, W
        self.embed_W = (randn(V, D) / 100).astype(F32)
        self.Wx = (randn(D, H) / np.sqrt(D)).astype(F32)
        self.Wh = (randn(H, H) / np.sqrt(H)).astype(F32)
        self.rnn_b = np.zeros(H, dtype=F32)
        self.aff_W = (randn(H, V) / np.sqrt(H)).astype(F32)
        self.aff_b = np.zeros(V, dtype=F32)

        self.params = [self.embed_W, self.Wx, self.Wh, self.rnn_b,
                       self.aff_W, self.aff_b]
        self.grads = [np.zeros_like(p) for p in self.params]
        self.h = None  # hidden state carried across forward calls
        self._cache = None

    def reset_state(self):
        self.h = None

    # ---- forward ---------------------------------------------------------
    def forward(self, xs, ts):
        N, T = xs.shape
        H = self.Wh.shape[0]
        V = self.aff_W.shape[1]

        # embedding lookup
        emb = self.embed_W[xs]                      # (N, T, D)

        # recurrent layer, one step at a time
        hs = np.empty((N, T, H), dtype=F32)
        h = self.h if self.h is not None else np.zeros((N, H), dtype=F32)
        h_first = h
        Wx, Wh, b = self.Wx, self.Wh, self.rnn_b
        for t in range(T):
            h = np.tanh(h @ Wh + emb[:, t, :] @ Wx + b)
            hs[:, t, :] = h
        self.h = h

        # affine over all N*T rows in one matmul
        rh = hs.reshape(N * T, H)
        scores = rh @ self.aff_W + self.aff_b       # (N*T, V)

        # softmax + cross entropy
        flat_t = ts.reshape(N * T)
        mask = flat_t != -1
        safe_t = np.where(mask, flat_t, 0)
        z = scores - scores.max(axis=1, keepdims=True)
        e = np.exp(z)
        probs = e / e.sum(axis=1, keepdims=True)
        rows = np.arange(N * T)
        count = mask.sum()
        logp = np.log(probs[rows, safe_t]) * mask
        loss = -logp.sum() / count

        self._cache = (xs, emb, hs, h_first, rh, probs, safe_t, mask, count)
        return float(loss)

    # ---- backward (dout = 1) ---------------------------------------------
    def backward(self):
        xs, emb, hs, h_first, rh, probs, safe_t, mask, count = self._cache
        N, T = xs.shape
        H = self.Wh.shape[0]
        rows = np.arange(N * T)

        # softmax-with-loss
        dscores = probs.copy()
        dscores[rows, safe_t] -= 1
        dscores /= count
        dscores *= mask[:, None]

        # affine
        g_aff_W = rh.T @ dscores
        g_aff_b = dscores.sum(axis=0)
        dhs = (dscores @ self.aff_W.T).reshape(N, T, H)

        # recurrent layer, t = T-1 .. 0; no gradient into the previous block
        Wx, Wh = self.Wx, self.Wh
        g_Wx = np.zeros_like(Wx)
        g_Wh = np.zeros_like(Wh)
        g_b = np.zeros_like(self.rnn_b)
        demb = np.empty_like(emb)
        dh = np.zeros((N, H), dtype=F32)
        for t in range(T - 1, -1, -1):
            h_t = hs[:, t, :]
            h_prev = hs[:, t - 1, :] if t > 0 else h_first
            dt = (dhs[:, t, :] + dh) * (1 - h_t * h_t)
            g_b += dt.sum(axis=0)
            g_Wh += h_prev.T @ dt
            g_Wx += emb[:, t, :].T @ dt
            dh = dt @ Wh.T
            demb[:, t, :] = dt @ Wx.T

        # embedding: scatter-add rows
        g_emb = np.zeros_like(self.embed_W)
        np.add.at(g_emb, xs.reshape(-1), demb.reshape(N * T, -1))

        self.grads = [g_emb, g_Wx, g_Wh, g_b, g_aff_W, g_aff_b]

    def sgd(self, lr):
        for p, g in zip(self.params, self.grads):
            p -= lr * g


# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------
def load_ptb_train(data_dir):
    path = os.path.join(data_dir, "ptb.train.txt")
    with open(path) as f:
        text = f.read()
    words = text.replace("\n", "<eos>").strip().split()
    word_to_id = {}
    ids = []
    for w in words:
        if w not in word_to_id:
            word_to_id[w] = len(word_to_id)
        ids.append(word_to_id[w])
    return np.array(ids, dtype=np.int64)


class Batcher:
    """The chapter's truncated-BPTT batcher: batch_size parallel cursors
    spaced `jump` apart, a shared time_idx that is never reset."""

    def __init__(self, corpus, batch_size, time_size):
        self.xs = corpus[:-1]
        self.ts = corpus[1:]
        self.data_size = len(self.xs)
        self.batch_size = batch_size
        self.time_size = time_size
        self.max_iters = self.data_size // (batch_size * time_size)
        jump = (len(corpus) - 1) // batch_size
        self.offsets = np.array([i * jump for i in range(batch_size)],
                                dtype=np.int64)
        self.time_idx = 0

    def next(self):
        # same as the nested t/i loops: batch[i, t] = xs[(off_i + time_idx+t) % n]
        steps = self.time_idx + np.arange(self.time_size, dtype=np.int64)
        idx = (self.offsets[:, None] + steps[None, :]) % self.data_size
        self.time_idx += self.time_size
        return self.xs[idx], self.ts[idx]


def train(args):
    corpus = load_ptb_train(args.data_dir)
    if args.corpus_size:
        corpus = corpus[:args.corpus_size]
    vocab = int(corpus.max()) + 1
    print(f"corpus size: {len(corpus)}, vocabulary size: {vocab}", flush=True)

    model = Rnnlm(vocab, args.wordvec, args.hidden, seed=args.seed)
    if args.save_init:
        save_init(model, args.save_init)
    batcher = Batcher(corpus, args.batch_size, args.time_size)
    t0 = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        total_loss = 0.0
        loss_count = 0
        for _ in range(batcher.max_iters):
            bx, bt = batcher.next()
            loss = model.forward(bx, bt)
            model.backward()
            model.sgd(args.lr)
            total_loss += loss
            loss_count += 1
        ppl = math.exp(total_loss / loss_count)
        print(f"epoch {epoch} | perplexity {ppl:.2f}", flush=True)
    print(f"train time: {time.perf_counter() - t0:.3f} s", flush=True)


def save_init(model, path):
    """Writes the initial weights as safetensors under recur's (PyTorch's) names and layouts,
    so `recur train --init-from PATH` starts from exactly these numbers: the two programs can
    then be compared epoch by epoch, not only as bands over seeds."""
    tensors = {
        "encoder.weight": model.embed_W,            # (V, D)
        "rnn.weight_ih_l0": model.Wx.T,             # (H, D) = Wx^T
        "rnn.weight_hh_l0": model.Wh.T,             # (H, H) = Wh^T
        "rnn.bias_ih_l0": model.rnn_b,
        "rnn.bias_hh_l0": np.zeros_like(model.rnn_b),
        "decoder.weight": model.aff_W.T,            # (V, H) = W^T
        "decoder.bias": model.aff_b,
    }
    header, blobs, offset = {}, [], 0
    for name, a in tensors.items():
        data = np.ascontiguousarray(a, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header).encode()
    head += b" " * (-len(head) % 8)  # the format pads the header to 8 bytes
    with open(path, "wb") as f:
        f.write(len(head).to_bytes(8, "little") + head + b"".join(blobs))


# --------------------------------------------------------------------------
# benchmark
# --------------------------------------------------------------------------
def bench(args):
    start_rss = status_mib("VmRSS:")
    rng = np.random.RandomState(args.seed)
    corpus = rng.randint(0, args.vocab, size=args.corpus_size).astype(np.int64)
    model = Rnnlm(args.vocab, args.wordvec, args.hidden, seed=args.seed)
    batcher = Batcher(corpus, args.batch_size, args.time_size)
    # Batches are pre-built (one epoch's worth, cycled) so that only
    # forward + backward + update is timed.
    batches = [batcher.next() for _ in range(max(1, batcher.max_iters))]
    tokens_per_batch = args.batch_size * args.time_size

    def run_for(seconds):
        n = 0
        t0 = time.perf_counter()
        while True:
            bx, bt = batches[n % len(batches)]
            model.forward(bx, bt)
            model.backward()
            model.sgd(args.lr)
            n += 1
            el = time.perf_counter() - t0
            if el >= seconds:
                return n * tokens_per_batch / el

    run_for(args.warmup)
    runs = [run_for(args.seconds) for _ in range(args.repeats)]
    med = statistics.median(runs)
    if args.json:
        print(json.dumps({
            "impl": "numpy", "model": "ch05",
            "tokens_per_s": med,
            "runs": runs,
            "peak_rss_mib": status_mib("VmHWM:"),
            "start_rss_mib": start_rss,
            "numpy_version": np.__version__,
            # threading is left at numpy's default; record what governed it
            "blas_threads_env": {k: os.environ[k] for k in
                                 ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                  "MKL_NUM_THREADS") if k in os.environ},
            "cpu_count": os.cpu_count(),
            "vocab": args.vocab, "batch_size": args.batch_size,
            "time_size": args.time_size, "wordvec": args.wordvec,
            "hidden": args.hidden,
        }))
    else:
        print(f"numpy {np.__version__}: median {med:.0f} tokens/s "
              f"over {args.repeats} runs of {args.seconds}s: "
              + ", ".join(f"{r:.0f}" for r in runs))


# --------------------------------------------------------------------------
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    def common(p):
        p.add_argument("--seed", type=int, default=1)
        p.add_argument("--batch-size", type=int, default=10)
        p.add_argument("--time-size", type=int, default=5)
        p.add_argument("--wordvec", type=int, default=100)
        p.add_argument("--hidden", type=int, default=100)
        p.add_argument("--lr", type=float, default=0.1)
        p.add_argument("--corpus-size", type=int, default=1000)

    p = sub.add_parser("train", help="train on PTB")
    common(p)
    p.add_argument("--data-dir", default="../shared/data/ptb")
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--save-init", metavar="FILE", help="write the initial weights (safetensors) for recur train --init-from")
    p.set_defaults(func=train)

    p = sub.add_parser("bench", help="tokens/s on a synthetic corpus")
    common(p)
    p.add_argument("--vocab", type=int, default=418)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--warmup", type=float, default=1.0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=bench)

    args = ap.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    sys.exit(main())
