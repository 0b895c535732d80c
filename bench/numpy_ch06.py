#!/usr/bin/env python3
"""NumPy reference for the LSTM (and GRU) language models of "Deep Learning from Scratch 2",
chapter 6: the book's Rnnlm (TimeEmbedding -> TimeLSTM -> TimeAffine -> TimeSoftmaxWithLoss)
and BetterRnnlm's stacking and weight tying (dropout left out: the benchmarks run without it),
trained with plain SGD after the book's clip_grads.

Written independently from the algorithm, in the style of bench/numpy_ch05.py: the book's
layers, gate layouts, initialisation and update, with the products that do not depend on the
previous step done for the whole block at once (the input projection x Wx of all T steps, the
decoder, the weight gradients), which changes the order of float additions, not the math. The
book's own code runs these step by step (and its TimeEmbedding backward adds T full V x D
gradient arrays), so it is slower than this reference: the recur / NumPy ratios measured with
this file are conservative.

Model (float32; float64 for the gradient check):
    TimeEmbedding(V, D)                         embed_W = randn(V, D) / 100
    L x TimeLSTM(I, H, stateful)                Wx = randn(I, 4H) / sqrt(I), Wh = randn(H, 4H) / sqrt(H),
                                                b = 0; gate blocks f, g, i, o (the book's order)
      or TimeGRU(I, H, stateful)                the book's GRU: z, r, h~ blocks,
                                                h~ = tanh(x Wxh + (r * h) Whh + bh), h = (1 - z) h + z h~
    TimeAffine(H, V)                            W = randn(H, V) / sqrt(H), b = 0; tied: W = embed_W^T
    TimeSoftmaxWithLoss                         mean cross-entropy over the N x T targets
Update: clip_grads(grads, max_norm) (global norm, scale by max_norm / (norm + 1e-6) when < 1),
then param -= lr * grad. The state (h, and c for LSTM) is carried between blocks, with no
gradient into the previous block (truncated BPTT).

Subcommands:
    bench MODEL   tokens/s of forward + backward + clip + SGD on random tokens, MODEL one of
                  ch06 (LSTM 100, V 10,000, batch 20 x 35), small (2 x LSTM 200, batch 20 x 20),
                  medium (2 x LSTM 650 tied, batch 20 x 35), gru-medium (the same with GRU);
                  clip 0.25 and lr 0.1 as `recur bench`. One JSON line with --json.
    gradcheck     analytic gradients against central differences (float64, small sizes, both
                  cells, 1 and 2 layers, tied and not, state carried in); run by hand.
"""

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

from procstat import status_mib

# name -> (cell, vocab, width, layers, tied, batch, time, clip)
MODELS = {
    "ch06": ("lstm", 10_000, 100, 1, False, 20, 35, 0.25),
    "small": ("lstm", 10_000, 200, 2, False, 20, 20, 0.25),
    "medium": ("lstm", 10_000, 650, 2, True, 20, 35, 0.25),
    "gru-medium": ("gru", 10_000, 650, 2, True, 20, 35, 0.25),
}
LR = 0.1
BATCHES = 10


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# --------------------------------------------------------------------------
# layers (time-major inside: (T, N, width), so that each step's slice is contiguous)
# --------------------------------------------------------------------------
class TimeLSTM:
    def __init__(self, I, H, dtype):
        randn = np.random.randn
        self.Wx = (randn(I, 4 * H) / np.sqrt(I)).astype(dtype)
        self.Wh = (randn(H, 4 * H) / np.sqrt(H)).astype(dtype)
        self.b = np.zeros(4 * H, dtype=dtype)
        self.params = [self.Wx, self.Wh, self.b]
        self.h = self.c = None

    def state(self):
        return (self.h, self.c)

    def set_state(self, s):
        self.h, self.c = s

    def forward(self, xs):
        T, N, I = xs.shape
        H = self.Wh.shape[0]
        dt = self.Wx.dtype
        h = self.h if self.h is not None else np.zeros((N, H), dtype=dt)
        c = self.c if self.c is not None else np.zeros((N, H), dtype=dt)
        self.h0, self.c0 = h, c
        A = (xs.reshape(T * N, I) @ self.Wx + self.b).reshape(T, N, 4 * H)
        gates = np.empty_like(A)
        hs = np.empty((T, N, H), dtype=dt)
        cs = np.empty((T, N, H), dtype=dt)
        tcs = np.empty((T, N, H), dtype=dt)
        for t in range(T):
            a = A[t] + h @ self.Wh
            f = sigmoid(a[:, :H])
            g = np.tanh(a[:, H:2 * H])
            i = sigmoid(a[:, 2 * H:3 * H])
            o = sigmoid(a[:, 3 * H:])
            c = f * c + g * i
            tc = np.tanh(c)
            h = o * tc
            gates[t, :, :H], gates[t, :, H:2 * H], gates[t, :, 2 * H:3 * H], gates[t, :, 3 * H:] = f, g, i, o
            hs[t], cs[t], tcs[t] = h, c, tc
        self.h, self.c = h, c
        self.cache = (xs, hs, cs, tcs, gates)
        return hs

    def backward(self, dhs):
        xs, hs, cs, tcs, gates = self.cache
        T, N, I = xs.shape
        H = self.Wh.shape[0]
        dA = np.empty_like(gates)
        dh = np.zeros((N, H), dtype=dhs.dtype)
        dc = np.zeros((N, H), dtype=dhs.dtype)
        for t in range(T - 1, -1, -1):
            f, g, i, o = (gates[t, :, :H], gates[t, :, H:2 * H], gates[t, :, 2 * H:3 * H],
                          gates[t, :, 3 * H:])
            c_prev = cs[t - 1] if t > 0 else self.c0
            tc = tcs[t]
            dh_t = dhs[t] + dh
            ds = dc + dh_t * o * (1 - tc * tc)
            dA[t, :, :H] = ds * c_prev * f * (1 - f)
            dA[t, :, H:2 * H] = ds * i * (1 - g * g)
            dA[t, :, 2 * H:3 * H] = ds * g * i * (1 - i)
            dA[t, :, 3 * H:] = dh_t * tc * o * (1 - o)
            dc = ds * f
            dh = dA[t] @ self.Wh.T
        h_prev = np.concatenate([self.h0[None], hs[:-1]]).reshape(T * N, H)
        dA2 = dA.reshape(T * N, 4 * H)
        self.grads = [xs.reshape(T * N, I).T @ dA2, h_prev.T @ dA2, dA2.sum(axis=0)]
        return (dA2 @ self.Wx.T).reshape(T, N, I)


class TimeGRU:
    """The book's GRU: z = s(x Wxz + h Whz + bz), r = s(x Wxr + h Whr + br),
    h~ = tanh(x Wxh + (r * h) Whh + bh), h' = (1 - z) * h + z * h~."""

    def __init__(self, I, H, dtype):
        randn = np.random.randn
        self.Wx = (randn(I, 3 * H) / np.sqrt(I)).astype(dtype)
        self.Wh = (randn(H, 3 * H) / np.sqrt(H)).astype(dtype)
        self.b = np.zeros(3 * H, dtype=dtype)
        self.params = [self.Wx, self.Wh, self.b]
        self.h = None

    def state(self):
        return self.h

    def set_state(self, s):
        self.h = s

    def forward(self, xs):
        T, N, I = xs.shape
        H = self.Wh.shape[0]
        dt = self.Wx.dtype
        h = self.h if self.h is not None else np.zeros((N, H), dtype=dt)
        self.h0 = h
        A = (xs.reshape(T * N, I) @ self.Wx + self.b).reshape(T, N, 3 * H)
        Whzr, Whh = self.Wh[:, :2 * H], self.Wh[:, 2 * H:]
        zrs = np.empty((T, N, 2 * H), dtype=dt)
        hhs = np.empty((T, N, H), dtype=dt)
        rhs = np.empty((T, N, H), dtype=dt)
        hs = np.empty((T, N, H), dtype=dt)
        for t in range(T):
            zr = sigmoid(A[t, :, :2 * H] + h @ Whzr)
            z, r = zr[:, :H], zr[:, H:]
            rh = r * h
            hh = np.tanh(A[t, :, 2 * H:] + rh @ Whh)
            h = (1 - z) * h + z * hh
            zrs[t], hhs[t], rhs[t], hs[t] = zr, hh, rh, h
        self.h = h
        self.cache = (xs, hs, zrs, hhs, rhs)
        return hs

    def backward(self, dhs):
        xs, hs, zrs, hhs, rhs = self.cache
        T, N, I = xs.shape
        H = self.Wh.shape[0]
        Whzr, Whh = self.Wh[:, :2 * H], self.Wh[:, 2 * H:]
        dA = np.empty((T, N, 3 * H), dtype=dhs.dtype)
        dh = np.zeros((N, H), dtype=dhs.dtype)
        for t in range(T - 1, -1, -1):
            z, r = zrs[t, :, :H], zrs[t, :, H:]
            hh = hhs[t]
            h_prev = hs[t - 1] if t > 0 else self.h0
            dh_t = dhs[t] + dh
            dt_ = dh_t * z * (1 - hh * hh)          # into tanh's input
            drh = dt_ @ Whh.T
            dz = dh_t * (hh - h_prev) * z * (1 - z)  # into z's sigmoid input
            dr = drh * h_prev * r * (1 - r)
            dA[t, :, :H], dA[t, :, H:2 * H], dA[t, :, 2 * H:] = dz, dr, dt_
            dh = dh_t * (1 - z) + drh * r + dA[t, :, :2 * H] @ Whzr.T
        h_prev = np.concatenate([self.h0[None], hs[:-1]]).reshape(T * N, H)
        dA2 = dA.reshape(T * N, 3 * H)
        dWh = np.empty_like(self.Wh)
        dWh[:, :2 * H] = h_prev.T @ dA2[:, :2 * H]
        dWh[:, 2 * H:] = rhs.reshape(T * N, H).T @ dA2[:, 2 * H:]
        self.grads = [xs.reshape(T * N, I).T @ dA2, dWh, dA2.sum(axis=0)]
        return (dA2 @ self.Wx.T).reshape(T, N, I)


class Lm:
    """Embedding -> L recurrent layers -> affine (tied: the embedding's transpose) -> softmax loss."""

    def __init__(self, cell, V, D, H, layers, tied, dtype=np.float32, seed=None):
        if seed is not None:
            np.random.seed(seed)
        randn = np.random.randn
        self.embed_W = (randn(V, D) / 100).astype(dtype)
        Layer = {"lstm": TimeLSTM, "gru": TimeGRU}[cell]
        self.rnns = [Layer(D if k == 0 else H, H, dtype) for k in range(layers)]
        self.tied = tied
        if tied:
            if D != H:
                raise ValueError("tied weights need D == H")
            self.aff_W = None
        else:
            self.aff_W = (randn(H, V) / np.sqrt(H)).astype(dtype)
        self.aff_b = np.zeros(V, dtype=dtype)
        # a shared weight is listed once (the book's optimizer removes duplicates, adding grads)
        self.params = [self.embed_W] + [p for r in self.rnns for p in r.params]
        if not tied:
            self.params.append(self.aff_W)
        self.params.append(self.aff_b)

    def decoder_W(self):
        return self.embed_W.T if self.tied else self.aff_W

    def state(self):
        return [r.state() for r in self.rnns]

    def set_state(self, s):
        for r, x in zip(self.rnns, s):
            r.set_state(x)

    def forward(self, xs, ts):
        """xs, ts (N, T) ids -> mean cross-entropy; carries the state."""
        N, T = xs.shape
        ids = xs.T  # (T, N)
        h = self.embed_W[ids]
        for r in self.rnns:
            h = r.forward(h)
        H = h.shape[2]
        rh = h.reshape(T * N, H)
        scores = rh @ self.decoder_W() + self.aff_b
        scores -= scores.max(axis=1, keepdims=True)
        e = np.exp(scores)
        probs = e / e.sum(axis=1, keepdims=True)
        t = ts.T.reshape(-1)
        rows = np.arange(T * N)
        loss = -np.log(probs[rows, t]).sum() / (T * N)
        self.cache = (ids, rh, probs, t, rows)
        return float(loss)

    def backward(self):
        ids, rh, probs, t, rows = self.cache
        T, N = ids.shape
        H = rh.shape[1]
        dscores = probs
        dscores[rows, t] -= 1
        dscores /= T * N
        g_aff_W = rh.T @ dscores
        g_aff_b = dscores.sum(axis=0)
        dh = (dscores @ self.decoder_W().T).reshape(T, N, H)
        for r in reversed(self.rnns):
            dh = r.backward(dh)
        g_embed = np.zeros_like(self.embed_W)
        np.add.at(g_embed, ids.reshape(-1), dh.reshape(T * N, -1))
        if self.tied:
            g_embed += g_aff_W.T
        self.grads = [g_embed] + [g for r in self.rnns for g in r.grads]
        if not self.tied:
            self.grads.append(g_aff_W)
        self.grads.append(g_aff_b)


def clip_grads(grads, max_norm):
    """The book's common/util.py clip_grads."""
    total_norm = np.sqrt(sum(float(np.sum(g * g)) for g in grads))
    rate = max_norm / (total_norm + 1e-6)
    if rate < 1:
        for g in grads:
            g *= rate


def sgd(params, grads, lr):
    for p, g in zip(params, grads):
        p -= lr * g


# --------------------------------------------------------------------------
# benchmark
# --------------------------------------------------------------------------
def bench(args):
    start_rss = status_mib("VmRSS:")
    cell, V, width, layers, tied, N, T, clip = MODELS[args.model]
    model = Lm(cell, V, width, width, layers, tied, seed=args.seed)
    rng = np.random.RandomState(args.seed)
    # 10 random (N, T) batches cycled through; the state carries from one to the next.
    corpus = rng.randint(0, V, size=(N, BATCHES * T + 1)).astype(np.int64)
    batches = [(corpus[:, k * T:(k + 1) * T], corpus[:, k * T + 1:(k + 1) * T + 1])
               for k in range(BATCHES)]
    n = [0]
    last = [None]

    def step():
        xs, ts = batches[n[0] % BATCHES]
        n[0] += 1
        last[0] = model.forward(xs, ts)
        model.backward()
        if clip is not None:
            clip_grads(model.grads, clip)
        sgd(model.params, model.grads, LR)
        return N * T

    def run(budget):
        tokens = 0
        t0 = time.perf_counter()
        while True:
            tokens += step()
            el = time.perf_counter() - t0
            if el >= budget:
                return tokens / el

    if args.warmup > 0:
        run(args.warmup)
    runs = [run(args.seconds) for _ in range(args.repeats)]
    med = statistics.median(runs)
    if args.json:
        print(json.dumps({
            "impl": "numpy", "model": args.model, "tokens_per_s": med, "runs": runs,
            "peak_rss_mib": status_mib("VmHWM:"), "start_rss_mib": start_rss,
            "numpy_version": np.__version__, "final_loss": last[0],
            "blas_threads_env": {k: os.environ[k] for k in
                                 ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
                                 if k in os.environ},
        }), flush=True)
    else:
        print(f"numpy {np.__version__} {args.model}: median {med:.0f} tokens/s over "
              f"{args.repeats} runs of {args.seconds}s: " + ", ".join(f"{r:.0f}" for r in runs))


# --------------------------------------------------------------------------
# gradient check
# --------------------------------------------------------------------------
def gradcheck(args):
    """Central differences of the loss against backward's gradients, every parameter entry, in
    float64, with a non-zero carried state (a first block runs before the checked one). Passes
    when every entry's relative error (denominator at least 1e-4) is below 1e-5."""
    eps = 1e-5
    worst_all = 0.0
    for cell in ("lstm", "gru"):
        for layers, tied in ((1, False), (2, True), (2, False)):
            V, D, N, T = 11, 6, 3, 4
            model = Lm(cell, V, D, D, layers, tied, dtype=np.float64, seed=args.seed)
            model.embed_W *= 100  # word vectors of unit scale: gradients well above roundoff
            for p in model.params:  # non-zero biases, so that every term is exercised
                if p.ndim == 1:
                    p[...] = np.random.randn(*p.shape) * 0.1
            rng = np.random.RandomState(args.seed)
            x0, t0 = rng.randint(0, V, (N, T)), rng.randint(0, V, (N, T))
            xs, ts = rng.randint(0, V, (N, T)), rng.randint(0, V, (N, T))
            model.forward(x0, t0)  # leaves a carried state
            state = model.state()
            model.forward(xs, ts)
            model.backward()
            grads = [g.copy() for g in model.grads]
            worst = 0.0
            for p, g in zip(model.params, grads):
                it = np.nditer(p, flags=["multi_index"])
                for _ in it:
                    i = it.multi_index
                    old = p[i]
                    p[i] = old + eps
                    model.set_state(state)
                    up = model.forward(xs, ts)
                    p[i] = old - eps
                    model.set_state(state)
                    down = model.forward(xs, ts)
                    p[i] = old
                    num = (up - down) / (2 * eps)
                    # relative error, against 1e-4 for the smallest entries (whose finite
                    # difference is mostly roundoff, about 1e-10 absolute)
                    worst = max(worst, abs(num - g[i]) / max(1e-4, abs(num), abs(g[i])))
            worst_all = max(worst_all, worst)
            print(f"{cell} layers {layers} tied {tied}: max relative error {worst:.2e}", flush=True)
    ok = worst_all < 1e-5
    print("gradient check " + ("passed" if ok else "FAILED") + f" (worst {worst_all:.2e})")
    return 0 if ok else 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("bench", help="tokens/s of the training step")
    p.add_argument("model", choices=list(MODELS))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--warmup", type=float, default=1.0)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=bench)
    p = sub.add_parser("gradcheck", help="finite-difference gradient check (float64)")
    p.add_argument("--seed", type=int, default=3)
    p.set_defaults(func=gradcheck)
    args = ap.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
