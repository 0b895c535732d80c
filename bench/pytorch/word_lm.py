#!/usr/bin/env python3
"""PyTorch reference for recur's word-level language models.

Our own re-implementation of the semantics of PyTorch's `word_language_model`
example (examples/word_language_model: RNNModel, batchify, truncated BPTT with
the hidden state carried and detached, gradient clipping, plain SGD, lr / 4
when validation does not improve), written from its description. It is the
perplexity and speed reference recur is compared against, and it reads and
writes recur run directories (config.json, vocab.txt, model.safetensors) so
that weights can move between the two.

Subcommands:
    train   train on PTB, save the best model as a recur run directory, print
            valid/test perplexity by two procedures (see below)
    eval    load a recur run directory, print the perplexity of one split
    bench   tokens/s of full training steps on random tokens

The two perplexity procedures (both with dropout off and the state starting
at zero, batch 10, 35 time steps):
    example: the example's `evaluate`: the split batchified into 10 streams,
             blocks of 35 rows (the last one shorter), loss weighted by block
             length, divided by the number of predicted rows.
    book:    "Deep Learning from Scratch 2" common/util.py `eval_perplexity`:
             stream i starts at i * jump, jump = (n - 1) // 10;
             max_iters = (n - 1) // (10 * 35) blocks, ppl = exp(mean of the
             block losses). It skips the tail the example covers, so the two
             figures differ slightly.
"""

import argparse
import copy
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

EOS = "<eos>"
EVAL_BATCH = 10
EVAL_BPTT = 35

# recur's cell names <-> the example's --model names.
CELL_OF_MODEL = {"LSTM": "lstm", "GRU": "gru", "RNN_TANH": "rnn"}
MODEL_OF_CELL = {v: k for k, v in CELL_OF_MODEL.items()}


# ---------------------------------------------------------------- data

def read_tokens(path):
    """Each line's whitespace-separated words followed by <eos> (the example's Dictionary)."""
    tokens = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            tokens.extend(line.split())
            tokens.append(EOS)
    return tokens


def build_vocab(tokens):
    """word -> id, ids by first appearance."""
    vocab = {}
    for w in tokens:
        if w not in vocab:
            vocab[w] = len(vocab)
    return vocab


def encode(tokens, vocab, path):
    """Ids of `tokens`; a word outside the vocabulary is an error (no <unk> fallback)."""
    ids = []
    for w in tokens:
        if w not in vocab:
            sys.exit(f"error: {path}: word {w!r} is not in the vocabulary")
        ids.append(vocab[w])
    return torch.tensor(ids, dtype=torch.long)


def batchify(ids, bsz):
    """(n,) -> (n // bsz, bsz): column j is the j-th contiguous slice of the stream.

    The tail that does not fill a row is dropped. Row r of the result is time
    step r of all bsz streams, the sequence-first layout nn.LSTM expects.
    """
    nrows = ids.size(0) // bsz
    return ids[: nrows * bsz].view(bsz, nrows).t().contiguous()


def get_batch(source, i, bptt):
    """Inputs rows i .. i+seq_len-1 and the targets one row later, flattened."""
    seq_len = min(bptt, source.size(0) - 1 - i)
    data = source[i : i + seq_len]
    target = source[i + 1 : i + 1 + seq_len].reshape(-1)
    return data, target


# ---------------------------------------------------------------- model

class RNNModel(nn.Module):
    """Embedding -> Dropout -> LSTM/GRU/RNN(tanh) -> Dropout -> Linear.

    Attribute names (encoder, rnn, decoder) fix the state_dict names, which are
    the names recur uses in model.safetensors.
    """

    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout, tie_weights):
        super().__init__()
        self.rnn_type = rnn_type
        self.nhid = nhid
        self.nlayers = nlayers
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        # nn.LSTM/GRU/RNN apply `dropout` between stacked layers (not after the
        # last), so with one layer it does nothing; pass 0 then to avoid PyTorch's warning.
        between = dropout if nlayers > 1 else 0.0
        if rnn_type == "LSTM":
            self.rnn = nn.LSTM(ninp, nhid, nlayers, dropout=between)
        elif rnn_type == "GRU":
            self.rnn = nn.GRU(ninp, nhid, nlayers, dropout=between)
        elif rnn_type == "RNN_TANH":
            self.rnn = nn.RNN(ninp, nhid, nlayers, nonlinearity="tanh", dropout=between)
        else:
            raise ValueError(f"unknown model {rnn_type!r}")
        self.decoder = nn.Linear(nhid, ntoken)
        if tie_weights:
            if nhid != ninp:
                raise ValueError("--tied needs --nhid equal to --emsize")
            # One Parameter shared by both modules: its gradient is the sum of both uses.
            self.decoder.weight = self.encoder.weight
        self.init_weights()

    def init_weights(self):
        # The example's init; the recurrent weights keep PyTorch's default
        # uniform(-1/sqrt(nhid), 1/sqrt(nhid)).
        nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -0.1, 0.1)

    def forward(self, inp, hidden):
        """inp (T, N) ids -> logits (T*N, V) and the new hidden state."""
        emb = self.drop(self.encoder(inp))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        logits = self.decoder(output)
        return logits.view(-1, logits.size(-1)), hidden

    def init_hidden(self, bsz):
        h = torch.zeros(self.nlayers, bsz, self.nhid)
        if self.rnn_type == "LSTM":
            return (h, torch.zeros_like(h))
        return h


def detach(hidden):
    """Cut the graph at the block boundary (truncated BPTT) but keep the values."""
    if isinstance(hidden, tuple):
        return tuple(h.detach() for h in hidden)
    return hidden.detach()


def sgd_step(model, lr, clip):
    """clip_grad_norm_ over all parameters, then p -= lr * grad."""
    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    with torch.no_grad():
        for p in model.parameters():  # a tied weight is listed once
            p.add_(p.grad, alpha=-lr)


# ---------------------------------------------------------------- evaluation

def eval_example(model, ids):
    """The example's evaluate(): length-weighted mean CE over the whole split -> ppl."""
    model.eval()
    source = batchify(ids, EVAL_BATCH)
    hidden = model.init_hidden(EVAL_BATCH)
    total = 0.0
    with torch.no_grad():
        for i in range(0, source.size(0) - 1, EVAL_BPTT):
            data, targets = get_batch(source, i, EVAL_BPTT)
            logits, hidden = model(data, hidden)
            total += data.size(0) * F.cross_entropy(logits, targets).item()
    return math.exp(total / (source.size(0) - 1))


def eval_book(model, ids):
    """The book's eval_perplexity (batch 10, time 35), state reset to zeros first."""
    model.eval()
    n = ids.size(0)
    max_iters = (n - 1) // (EVAL_BATCH * EVAL_BPTT)
    jump = (n - 1) // EVAL_BATCH
    if max_iters == 0:
        sys.exit("error: the split is too short for one 10 x 35 block")
    hidden = model.init_hidden(EVAL_BATCH)
    # pos[i, t] = i*jump + t; block `it` reads pos + it*35 and its successor.
    # (The book wraps indices modulo n, but with max_iters as above they never wrap.)
    pos = torch.arange(EVAL_BATCH).unsqueeze(1) * jump + torch.arange(EVAL_BPTT).unsqueeze(0)
    losses = []
    with torch.no_grad():
        for it in range(max_iters):
            idx = pos + it * EVAL_BPTT
            xs = ids[idx].t().contiguous()  # (N, T) -> (T, N), sequence first
            ts = ids[idx + 1].t().reshape(-1)
            logits, hidden = model(xs, hidden)
            losses.append(F.cross_entropy(logits, ts).item())
    return math.exp(sum(losses) / max_iters)


# ---------------------------------------------------------------- run directory

def write_atomic(path, write):
    """write(tmp_path), then rename over `path`: readers never see a half-written file."""
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_text_atomic(path, text):
    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())

    write_atomic(path, write)


def save_run(rundir, state_dict, words, args, vocab_size):
    os.makedirs(rundir, exist_ok=True)
    # Each tensor its own contiguous float32 copy: for tied models encoder.weight
    # and decoder.weight share storage, which safetensors refuses.
    tensors = {k: v.detach().to(torch.float32).contiguous().clone() for k, v in state_dict.items()}
    write_atomic(
        os.path.join(rundir, "model.safetensors"),
        # save_file creates its file owner-only (0600); make it readable like the others.
        lambda tmp: (save_file(tensors, tmp, metadata={"format": "pt"}), os.chmod(tmp, 0o644)),
    )
    write_text_atomic(os.path.join(rundir, "vocab.txt"), "".join(w + "\n" for w in words))
    config = {
        "model": {
            "cell": CELL_OF_MODEL[args.model],
            "vocab_size": vocab_size,
            "embed_size": args.emsize,
            "hidden_size": args.nhid,
            "num_layers": args.nlayers,
            "dropout": args.dropout,
            "tie_weights": args.tied,
            "init": "pytorch",
            "init_scale": 0.1,
        },
        "tokenizer": "whitespace",
    }
    write_text_atomic(os.path.join(rundir, "config.json"), json.dumps(config, indent=2) + "\n")


def load_run(rundir):
    """A recur run directory -> (model in eval mode, vocab dict)."""
    with open(os.path.join(rundir, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    mc = config["model"]
    if config.get("tokenizer") != "whitespace":
        sys.exit(f"error: tokenizer {config.get('tokenizer')!r} is not supported (only whitespace)")
    if mc["cell"] not in MODEL_OF_CELL:
        sys.exit(f"error: unknown cell {mc['cell']!r}")

    with open(os.path.join(rundir, "vocab.txt"), encoding="utf-8") as f:
        text = f.read()
    if not text.endswith("\n"):
        sys.exit("error: vocab.txt is not newline-terminated")
    words = text[:-1].split("\n")
    vocab = {w: i for i, w in enumerate(words)}
    if len(vocab) != len(words) or len(words) != mc["vocab_size"]:
        sys.exit(f"error: vocab.txt has {len(words)} lines ({len(vocab)} distinct), "
                 f"config says vocab_size {mc['vocab_size']}")

    tied = bool(mc.get("tie_weights", False))
    model = RNNModel(MODEL_OF_CELL[mc["cell"]], mc["vocab_size"], mc["embed_size"],
                     mc["hidden_size"], mc["num_layers"], mc.get("dropout", 0.0), tied)
    tensors = {k: v.to(torch.float32) for k, v in load_file(os.path.join(rundir, "model.safetensors")).items()}
    if tied:
        # Check the file itself: after loading, the shared Parameter would hold
        # whichever of the two was copied last and always compare equal.
        if not torch.equal(tensors["encoder.weight"], tensors["decoder.weight"]):
            sys.exit("error: tied model but decoder.weight differs from encoder.weight in the file")
    model.load_state_dict(tensors, strict=True)
    if tied:
        assert torch.equal(model.decoder.weight, model.encoder.weight)
    model.eval()
    return model, vocab


# ---------------------------------------------------------------- train

def train_epoch(model, train_data, args, lr, epoch):
    """One pass over train_data (at most --max-batches blocks); returns the mean loss."""
    model.train()
    hidden = model.init_hidden(args.batch_size)
    total, count = 0.0, 0
    interval_loss, interval_start = 0.0, time.time()
    for batch, i in enumerate(range(0, train_data.size(0) - 1, args.bptt)):
        if args.max_batches and batch >= args.max_batches:
            break
        data, targets = get_batch(train_data, i, args.bptt)
        hidden = detach(hidden)
        model.zero_grad()
        logits, hidden = model(data, hidden)
        loss = F.cross_entropy(logits, targets)
        loss.backward()
        sgd_step(model, lr, args.clip)
        total += loss.item()
        count += 1
        interval_loss += loss.item()
        if count % args.log_interval == 0:
            cur = interval_loss / args.log_interval
            ms = (time.time() - interval_start) * 1000 / args.log_interval
            print(f"| epoch {epoch:3d} | batch {count:5d} | lr {lr:g} | ms/batch {ms:6.1f} "
                  f"| loss {cur:5.2f} | ppl {math.exp(cur):8.2f}", flush=True)
            interval_loss, interval_start = 0.0, time.time()
    return total / max(count, 1)


def cmd_train(args):
    if os.path.exists(os.path.join(args.save, "model.safetensors")) and not args.overwrite:
        sys.exit(f"error: {args.save} already holds a model (pass --overwrite to replace it)")
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    paths = {s: os.path.join(args.data, f"ptb.{s}.txt") for s in ("train", "valid", "test")}
    train_tokens = read_tokens(paths["train"])
    vocab = build_vocab(train_tokens)
    words = sorted(vocab, key=vocab.get)
    ids = {"train": encode(train_tokens, vocab, paths["train"])}
    for s in ("valid", "test"):
        ids[s] = encode(read_tokens(paths[s]), vocab, paths[s])
    print(f"vocab {len(vocab)} | tokens train {len(ids['train'])} valid {len(ids['valid'])} "
          f"test {len(ids['test'])}", flush=True)

    model = RNNModel(args.model, len(vocab), args.emsize, args.nhid, args.nlayers,
                     args.dropout, args.tied)
    train_data = batchify(ids["train"], args.batch_size)

    lr = args.lr
    best_val, best_state, best_epoch = None, None, 0
    for epoch in range(1, args.epochs + 1):
        start = time.time()
        train_loss = train_epoch(model, train_data, args, lr, epoch)
        val_ppl = eval_example(model, ids["valid"])
        print(f"| end of epoch {epoch:3d} | time {time.time() - start:6.1f}s | lr {lr:g} "
              f"| train ppl {math.exp(train_loss):8.2f} | valid ppl {val_ppl:8.2f}", flush=True)
        if best_val is None or val_ppl < best_val:
            best_val, best_epoch = val_ppl, epoch
            best_state = copy.deepcopy(model.state_dict())
            save_run(args.save, best_state, words, args, len(vocab))
        else:
            lr /= 4.0  # the example's annealing: no improvement on valid

    # Test the best model (the example reloads its best checkpoint).
    model.load_state_dict(best_state)
    result = {
        "model": args.model,
        "vocab_size": len(vocab),
        "best_epoch": best_epoch,
        "valid_ppl_example": eval_example(model, ids["valid"]),
        "valid_ppl_book": eval_book(model, ids["valid"]),
        "test_ppl_example": eval_example(model, ids["test"]),
        "test_ppl_book": eval_book(model, ids["test"]),
        "save": args.save,
    }
    print(json.dumps(result), flush=True)


# ---------------------------------------------------------------- eval

def cmd_eval(args):
    torch.set_num_threads(args.threads)
    model, vocab = load_run(args.run)
    path = os.path.join(args.data, f"ptb.{args.split}.txt")
    ids = encode(read_tokens(path), vocab, path)
    result = {
        "run": args.run,
        "split": args.split,
        "tokens": len(ids),
        "ppl_book": eval_book(model, ids),
        "ppl_example": eval_example(model, ids),
    }
    print(json.dumps(result), flush=True)


# ---------------------------------------------------------------- bench

def cmd_bench(args):
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    model = RNNModel(args.model, args.vocab, args.emsize, args.nhid, args.nlayers,
                     args.dropout, args.tied)
    model.train()
    # One random stream long enough for every step; step k reads block k.
    total_steps = args.warmup + args.steps * args.repeats
    data = torch.randint(0, args.vocab, (total_steps * args.bptt + 1, args.batch_size))
    hidden = model.init_hidden(args.batch_size)
    step = 0

    def train_step():
        nonlocal hidden, step
        data_, targets = get_batch(data, step * args.bptt, args.bptt)
        step += 1
        hidden = detach(hidden)
        model.zero_grad()
        logits, hidden = model(data_, hidden)
        loss = F.cross_entropy(logits, targets)
        loss.backward()
        sgd_step(model, args.lr, 0.25)
        return loss

    for _ in range(args.warmup):
        train_step()
    seconds = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        for _ in range(args.steps):
            loss = train_step()
        seconds.append(time.perf_counter() - start)

    tokens_per_step = args.batch_size * args.bptt
    tps = [args.steps * tokens_per_step / s for s in seconds]
    result = {
        "model": args.model, "vocab": args.vocab, "emsize": args.emsize, "nhid": args.nhid,
        "nlayers": args.nlayers, "tied": args.tied, "dropout": args.dropout,
        "batch_size": args.batch_size, "bptt": args.bptt, "steps": args.steps,
        "tokens_per_s": statistics.median(tps),
        "tokens_per_s_median": statistics.median(tps),
        "seconds_per_step_median": statistics.median(seconds) / args.steps,
        "tokens_per_s_all": tps,
        "seconds_per_step_all": [s / args.steps for s in seconds],
        "final_loss": loss.item(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    print(json.dumps(result), flush=True)


# ---------------------------------------------------------------- main

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    def model_args(q, default_model="LSTM"):
        q.add_argument("--model", default=default_model, choices=list(CELL_OF_MODEL))
        q.add_argument("--emsize", type=int, default=200)
        q.add_argument("--nhid", type=int, default=200)
        q.add_argument("--nlayers", type=int, default=2)
        q.add_argument("--tied", action="store_true")
        q.add_argument("--batch-size", type=int, default=20)
        q.add_argument("--bptt", type=int, default=35)
        q.add_argument("--lr", type=float, default=20.0)
        q.add_argument("--seed", type=int, default=1111)
        q.add_argument("--threads", type=int, default=2)

    t = sub.add_parser("train", help="train on PTB and save a recur run directory")
    model_args(t)
    t.add_argument("--dropout", type=float, default=0.2)
    t.add_argument("--clip", type=float, default=0.25)
    t.add_argument("--epochs", type=int, default=40)
    t.add_argument("--max-batches", type=int, default=0, help="batches per epoch at most (0: all)")
    t.add_argument("--log-interval", type=int, default=100)
    t.add_argument("--data", required=True, help="folder with ptb.{train,valid,test}.txt")
    t.add_argument("--save", required=True, help="run directory to write")
    t.add_argument("--overwrite", action="store_true", help="replace a model already in --save")

    e = sub.add_parser("eval", help="perplexity of a recur run directory on a PTB split")
    e.add_argument("--run", required=True)
    e.add_argument("--data", required=True)
    e.add_argument("--split", default="test", choices=["train", "valid", "test"])
    e.add_argument("--threads", type=int, default=2)

    b = sub.add_parser("bench", help="tokens/s of training steps on random tokens")
    model_args(b)
    b.add_argument("--dropout", type=float, default=0.0)
    b.add_argument("--vocab", type=int, default=10000)
    b.add_argument("--warmup", type=int, default=3)
    b.add_argument("--steps", type=int, default=50)
    b.add_argument("--repeats", type=int, default=5)

    args = p.parse_args()
    {"train": cmd_train, "eval": cmd_eval, "bench": cmd_bench}[args.cmd](args)


if __name__ == "__main__":
    main()
