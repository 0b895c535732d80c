#!/usr/bin/env python3
"""PyTorch reference for recur's word-level (and character-level) language models.

Our own re-implementation of the semantics of PyTorch's `word_language_model`
example (examples/word_language_model: RNNModel, batchify, truncated BPTT with
the hidden state carried and detached, gradient clipping, plain SGD, lr / 4
when validation does not improve), written from its description. It is the
perplexity and speed reference recur is compared against, and it reads and
writes recur run directories (config.json, vocab.txt, model.safetensors) so
that weights can move between the two.

`--tokenizer char` is recur's `--tokenizer char`: every character a token, the
line break `<eos>`, `<unk>` for characters training did not see; it is scored
in bits per character (log2 of the perplexity), by the book's procedure at
--eval-batch x --eval-bptt, shrunk as recur's eval_shape shrinks it for a short
split. `--optimizer adam` is the book's (and recur's) Adam, written out so that
epsilon sits where theirs does; with it lr stays constant.

Subcommands:
    train   train on PTB, save the best model as a recur run directory, print
            valid/test perplexity by two procedures (see below)
    eval    load a recur run directory, print the perplexity of one split
    bench   tokens/s of full training steps on random tokens

The two perplexity procedures (both with dropout off and the state starting
at zero, batch B = --eval-batch 10, T = --eval-bptt 35 time steps):
    example: the example's `evaluate`: the split batchified into B streams,
             blocks of T rows (the last one shorter), loss weighted by block
             length, divided by the number of predicted rows.
    book:    "Deep Learning from Scratch 2" common/util.py `eval_perplexity`:
             stream i starts at i * jump, jump = (n - 1) // B;
             max_iters = (n - 1) // (B * T) blocks, ppl = exp(mean of the
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
UNK = "<unk>"
EVAL_BATCH = 10
EVAL_BPTT = 35

# --tokenizer <-> the name config.json records (recur's).
CONFIG_TOKENIZER = {"word": "whitespace", "char": "char"}
TOKENIZER_OF_CONFIG = {v: k for k, v in CONFIG_TOKENIZER.items()}

# What Rust's char::is_whitespace (Unicode White_Space) calls white space, and U+FEFF:
# the characters recur writes by name in a char vocab.txt. Python's str.isspace
# differs (it also takes U+001C..U+001F), so the set is spelled out.
NAMED_CHARS = frozenset(
    [chr(c) for c in range(0x09, 0x0E)]
    + [" ", "\u0085", "\u00a0", "\u1680"]
    + [chr(c) for c in range(0x2000, 0x200B)]
    + ["\u2028", "\u2029", "\u202f", "\u205f", "\u3000", "\ufeff"]
)

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


def read_chars(path):
    """recur's char tokenizer: every character a token as it is, each line break <eos>.

    newline="" keeps the file's own line ends: a CR is dropped only where it
    ends a line (CRLF), as recur does; elsewhere it is a character. A leading
    UTF-8 byte-order mark is dropped (utf-8-sig), as recur's read_text does.
    """
    with open(path, encoding="utf-8-sig", newline="") as f:
        lines = f.read().split("\n")
    tokens = []
    for k, line in enumerate(lines):
        tokens.extend(line[:-1] if line.endswith("\r") else line)
        if k + 1 < len(lines):
            tokens.append(EOS)
    return tokens


def build_char_vocab(tokens):
    """<unk> (id 0, as recur puts it), then the characters (and <eos>) by first appearance.

    <unk> stands for a valid/test character training did not see; recur's char
    vocabulary has it too, so the vocabulary sizes (and the softmax) match.
    """
    vocab = {UNK: 0}
    for t in tokens:
        if t not in vocab:
            vocab[t] = len(vocab)
    return vocab


def encode_chars(tokens, vocab, path):
    """Ids of `tokens`, a character outside the vocabulary as <unk> (said once per file)."""
    unk = vocab.get(UNK)
    ids, unknown = [], 0
    for t in tokens:
        i = vocab.get(t)
        if i is None:
            if unk is None:
                sys.exit(f"error: {path}: character {t!r} is not in the vocabulary (which has no <unk>)")
            i, unknown = unk, unknown + 1
        ids.append(i)
    if unknown:
        print(f"note: {path}: {unknown} characters outside the vocabulary read as {UNK}", flush=True)
    return torch.tensor(ids, dtype=torch.long)


def read_split(path, vocab, tokenizer):
    """A valid/test split encoded with the training vocabulary, the tokenizer's way."""
    if tokenizer == "char":
        return encode_chars(read_chars(path), vocab, path)
    return encode(read_tokens(path), vocab, path)


def token_name(token):
    """How a char vocab.txt writes a token: recur's names for white space, else the token."""
    if token not in NAMED_CHARS:
        return token
    return {" ": "<sp>", "\t": "<tab>"}.get(token, f"<U+{ord(token):04X}>")


def name_token(name):
    """The token a char vocab.txt line names (token_name's inverse; <eos>, <unk> as they are)."""
    if name == "<sp>":
        return " "
    if name == "<tab>":
        return "\t"
    if name.startswith("<U+") and name.endswith(">") and len(name) > 4:
        try:
            return chr(int(name[3:-1], 16))
        except (ValueError, OverflowError):
            pass
    return name


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


def clip_grads(model, clip):
    """clip_grad_norm_ over all parameters; clip 0 means no clipping (recur's --clip 0).

    (clip_grad_norm_ itself would scale every gradient to zero at 0.)
    """
    if clip > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)


def sgd_step(model, lr, clip):
    """clip_grad_norm_ over all parameters, then p -= lr * grad."""
    clip_grads(model, clip)
    with torch.no_grad():
        for p in model.parameters():  # a tied weight is listed once
            p.add_(p.grad, alpha=-lr)


class Adam:
    """The book's (and recur's) Adam, by hand: torch.optim.Adam adds eps to the bias-corrected
    sqrt(v_hat), the book to sqrt(v), with the correction folded into lr_t.

    lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t); m += (1 - beta1)(g - m);
    v += (1 - beta2)(g^2 - v); w -= lr_t * m / (sqrt(v) + eps). step(model, lr, clip)
    has sgd_step's signature, so the training loops take either.
    """

    def __init__(self, model, beta1=0.9, beta2=0.999, eps=1e-7):
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m = [torch.zeros_like(p) for p in model.parameters()]
        self.v = [torch.zeros_like(p) for p in model.parameters()]
        self.t = 0

    def step(self, model, lr, clip):
        clip_grads(model, clip)
        self.t += 1
        lr_t = lr * math.sqrt(1.0 - self.beta2 ** self.t) / (1.0 - self.beta1 ** self.t)
        with torch.no_grad():
            for p, m, v in zip(model.parameters(), self.m, self.v):
                g = p.grad
                m.add_(g - m, alpha=1.0 - self.beta1)
                v.add_(g * g - v, alpha=1.0 - self.beta2)
                p.addcdiv_(m, v.sqrt().add_(self.eps), value=-lr_t)


def optimizer_step(name, model):
    """The update the training loop calls, step(model, lr, clip): SGD, or a fresh Adam's."""
    return Adam(model).step if name == "adam" else sgd_step


# ---------------------------------------------------------------- evaluation

def eval_shape(n, batch, time):
    """recur's eval_shape: the blocks (streams, steps) a split of n tokens is measured in.

    batch x time when it fills them, else fewer streams, else one shorter stream;
    None below 2 tokens.
    """
    data = n - 1
    if data < 1:
        return None
    if data >= batch * time:
        return batch, time
    if data >= time:
        return data // time, time
    return 1, data


def eval_dims(args, n, what):
    """(batch, time) to measure a split in: the flags; in char mode shrunk as recur does (said)."""
    wanted = (args.eval_batch, args.eval_bptt)
    if args.tokenizer != "char":
        return wanted
    shape = eval_shape(n, *wanted)
    if shape is None:
        sys.exit(f"error: {what} has {n} tokens: too few to measure a perplexity")
    if shape != wanted:
        print(f"{what} has {n} tokens: measured in blocks of {shape[0]} x {shape[1]} "
              f"instead of {wanted[0]} x {wanted[1]}", flush=True)
    return shape


def bpc(ppl):
    """Bits per character: log2 of the perplexity, the mean cross-entropy / ln 2."""
    return math.log2(ppl)


def eval_example(model, ids, batch=EVAL_BATCH, time=EVAL_BPTT):
    """The example's evaluate(): length-weighted mean CE over the whole split -> ppl."""
    model.eval()
    source = batchify(ids, batch)
    if source.size(0) < 2:
        sys.exit(f"error: the split is too short for {batch} streams")
    hidden = model.init_hidden(batch)
    total = 0.0
    with torch.no_grad():
        for i in range(0, source.size(0) - 1, time):
            data, targets = get_batch(source, i, time)
            logits, hidden = model(data, hidden)
            total += data.size(0) * F.cross_entropy(logits, targets).item()
    return math.exp(total / (source.size(0) - 1))


def eval_book(model, ids, batch=EVAL_BATCH, time=EVAL_BPTT):
    """The book's eval_perplexity (batch 10, time 35 unless told), state reset to zeros first."""
    model.eval()
    n = ids.size(0)
    max_iters = (n - 1) // (batch * time)
    jump = (n - 1) // batch
    if max_iters == 0:
        sys.exit(f"error: the split is too short for one {batch} x {time} block")
    hidden = model.init_hidden(batch)
    # pos[i, t] = i*jump + t; block `it` reads pos + it*time and its successor.
    # (The book wraps indices modulo n, but with max_iters as above they never wrap.)
    pos = torch.arange(batch).unsqueeze(1) * jump + torch.arange(time).unsqueeze(0)
    losses = []
    with torch.no_grad():
        for it in range(max_iters):
            idx = pos + it * time
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
    """A recur run directory; `words` are the tokens by id (char runs: written by name)."""
    # Callers other than cmd_train (tests/fixtures) pass an args without tokenizer: words.
    tokenizer = getattr(args, "tokenizer", "word")
    if tokenizer == "char":
        words = [token_name(w) for w in words]
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
        "tokenizer": CONFIG_TOKENIZER[tokenizer],
    }
    write_text_atomic(os.path.join(rundir, "config.json"), json.dumps(config, indent=2) + "\n")


def run_tokenizer(rundir):
    """The run's --tokenizer (word or char) from its config.json; others are refused."""
    with open(os.path.join(rundir, "config.json"), encoding="utf-8") as f:
        name = json.load(f).get("tokenizer")
    if name not in TOKENIZER_OF_CONFIG:
        sys.exit(f"error: tokenizer {name!r} is not supported (only whitespace and char)")
    return TOKENIZER_OF_CONFIG[name]


def load_run(rundir):
    """A recur run directory -> (model in eval mode, vocab dict: token -> id).

    A char run's vocab.txt names white space (<sp>, <tab>, <U+XXXX>); the dict's
    keys are the characters themselves, as read_chars yields them.
    """
    tokenizer = run_tokenizer(rundir)
    with open(os.path.join(rundir, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    mc = config["model"]
    if mc["cell"] not in MODEL_OF_CELL:
        sys.exit(f"error: unknown cell {mc['cell']!r}")

    with open(os.path.join(rundir, "vocab.txt"), encoding="utf-8") as f:
        text = f.read()
    if not text.endswith("\n"):
        sys.exit("error: vocab.txt is not newline-terminated")
    words = text[:-1].split("\n")
    if tokenizer == "char":
        words = [name_token(w) for w in words]
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

def train_epoch(model, train_data, args, lr, epoch, step=sgd_step):
    """One pass over train_data (at most --max-batches blocks).

    Returns the mean loss and the number of tokens trained (for tokens/s).
    `step(model, lr, clip)` is the update: sgd_step or Adam(...).step.
    """
    model.train()
    hidden = model.init_hidden(args.batch_size)
    total, count, tokens = 0.0, 0, 0
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
        step(model, lr, args.clip)
        total += loss.item()
        count += 1
        tokens += data.numel()
        interval_loss += loss.item()
        if count % args.log_interval == 0:
            cur = interval_loss / args.log_interval
            ms = (time.time() - interval_start) * 1000 / args.log_interval
            # Char runs add bits per character; the word line stays the example's.
            extra = f" | bpc {cur / math.log(2):6.3f}" if args.tokenizer == "char" else ""
            print(f"| epoch {epoch:3d} | batch {count:5d} | lr {lr:g} | ms/batch {ms:6.1f} "
                  f"| loss {cur:5.2f} | ppl {math.exp(cur):8.2f}{extra}", flush=True)
            interval_loss, interval_start = 0.0, time.time()
    return total / max(count, 1), tokens


def read_train(path, args):
    """The training tokens (the first --max-train-chars of them in char mode) and their vocab.

    As recur's --corpus-size: the cut comes first, so the vocabulary is the kept
    part's and what the cut drops reads as <unk> in valid/test.
    """
    if args.tokenizer != "char":
        if args.max_train_chars:
            sys.exit("error: --max-train-chars needs --tokenizer char (word mode reads valid and "
                     "test with the whole training vocabulary, and has no <unk>)")
        tokens = read_tokens(path)
        vocab = build_vocab(tokens)
        return encode(tokens, vocab, path), vocab
    tokens = read_chars(path)
    if args.max_train_chars:
        if args.max_train_chars > len(tokens):
            sys.exit(f"error: --max-train-chars {args.max_train_chars} is larger than the corpus "
                     f"({len(tokens)} tokens)")
        tokens = tokens[: args.max_train_chars]
    vocab = build_char_vocab(tokens)
    return encode_chars(tokens, vocab, path), vocab


def cmd_train(args):
    if os.path.exists(os.path.join(args.save, "model.safetensors")) and not args.overwrite:
        sys.exit(f"error: {args.save} already holds a model (pass --overwrite to replace it)")
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    paths = {s: os.path.join(args.data, f"ptb.{s}.txt") for s in ("train", "valid", "test")}
    char = args.tokenizer == "char"
    train_ids, vocab = read_train(paths["train"], args)
    words = sorted(vocab, key=vocab.get)
    ids = {"train": train_ids}
    for s in ("valid", "test"):
        ids[s] = read_split(paths[s], vocab, args.tokenizer)
    print(f"vocab {len(vocab)} | tokens train {len(ids['train'])} valid {len(ids['valid'])} "
          f"test {len(ids['test'])}", flush=True)
    dims = {s: eval_dims(args, len(ids[s]), f"the {s} text") for s in ("valid", "test")}

    model = RNNModel(args.model, len(vocab), args.emsize, args.nhid, args.nlayers,
                     args.dropout, args.tied)
    train_data = batchify(ids["train"], args.batch_size)
    step = optimizer_step(args.optimizer, model)

    lr = args.lr
    best_val, best_state, best_epoch = None, None, 0
    train_seconds, train_tokens = 0.0, 0
    for epoch in range(1, args.epochs + 1):
        start = time.time()
        train_loss, tokens = train_epoch(model, train_data, args, lr, epoch, step)
        train_seconds += time.time() - start
        train_tokens += tokens
        if char:
            # recur selects on its own measure: the book's procedure at the eval shape.
            val_ppl = eval_book(model, ids["valid"], *dims["valid"])
            print(f"| end of epoch {epoch:3d} | time {time.time() - start:6.1f}s | lr {lr:g} "
                  f"| train ppl {math.exp(train_loss):8.3f} | train bpc {train_loss / math.log(2):6.4f} "
                  f"| valid ppl {val_ppl:8.3f} | valid bpc {bpc(val_ppl):6.4f}", flush=True)
        else:
            val_ppl = eval_example(model, ids["valid"], *dims["valid"])
            print(f"| end of epoch {epoch:3d} | time {time.time() - start:6.1f}s | lr {lr:g} "
                  f"| train ppl {math.exp(train_loss):8.2f} | valid ppl {val_ppl:8.2f}", flush=True)
        if best_val is None or val_ppl < best_val:
            best_val, best_epoch = val_ppl, epoch
            best_state = copy.deepcopy(model.state_dict())
            save_run(args.save, best_state, words, args, len(vocab))
        elif args.optimizer == "sgd":
            lr /= 4.0  # the example's annealing: no improvement on valid (recur's Adam keeps lr)

    # Test the best model (the example reloads its best checkpoint).
    model.load_state_dict(best_state)
    result = {
        "model": args.model,
        "vocab_size": len(vocab),
        "best_epoch": best_epoch,
        "valid_ppl_example": eval_example(model, ids["valid"], *dims["valid"]),
        "valid_ppl_book": eval_book(model, ids["valid"], *dims["valid"]),
        "test_ppl_example": eval_example(model, ids["test"], *dims["test"]),
        "test_ppl_book": eval_book(model, ids["test"], *dims["test"]),
        "save": args.save,
    }
    if char:
        # Extra fields only for char runs: a word run's line stays as it was.
        result.update({
            "tokenizer": "char",
            "optimizer": args.optimizer,
            "valid_bpc_book": bpc(result["valid_ppl_book"]),
            "test_bpc_book": bpc(result["test_ppl_book"]),
            "valid_bpc_example": bpc(result["valid_ppl_example"]),
            "test_bpc_example": bpc(result["test_ppl_example"]),
            "eval_shape_valid": list(dims["valid"]),
            "eval_shape_test": list(dims["test"]),
            "train_tokens": train_tokens,
            "train_seconds": train_seconds,
            "train_tokens_per_s": train_tokens / train_seconds if train_seconds > 0 else None,
        })
    print(json.dumps(result), flush=True)


# ---------------------------------------------------------------- eval

def cmd_eval(args):
    torch.set_num_threads(args.threads)
    tokenizer = run_tokenizer(args.run)
    if args.tokenizer is not None and args.tokenizer != tokenizer:
        sys.exit(f"error: --tokenizer {args.tokenizer}, but {args.run} is a {tokenizer} model")
    args.tokenizer = tokenizer
    model, vocab = load_run(args.run)
    path = os.path.join(args.data, f"ptb.{args.split}.txt")
    ids = read_split(path, vocab, tokenizer)
    dims = eval_dims(args, len(ids), f"the {args.split} text")
    result = {
        "run": args.run,
        "split": args.split,
        "tokens": len(ids),
        "ppl_book": eval_book(model, ids, *dims),
        "ppl_example": eval_example(model, ids, *dims),
    }
    if tokenizer == "char":
        result.update({
            "tokenizer": "char",
            "bpc_book": bpc(result["ppl_book"]),
            "bpc_example": bpc(result["ppl_example"]),
            "eval_shape": list(dims),
        })
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
    update = optimizer_step(args.optimizer, model)
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
        update(model, args.lr, 0.25)
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
    if args.optimizer != "sgd":
        result["optimizer"] = args.optimizer  # absent for SGD: the line stays as it was
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
        q.add_argument("--lr", type=float, default=None,
                       help="default 20 with sgd (the example's), 0.001 with adam (the book's)")
        q.add_argument("--seed", type=int, default=1111)
        q.add_argument("--threads", type=int, default=2)
        q.add_argument("--optimizer", default="sgd", choices=["sgd", "adam"],
                       help="sgd: p -= lr * grad; adam: the book's Adam (eps 1e-7 outside the sqrt)")

    def eval_args(q):
        q.add_argument("--eval-batch", type=int, default=EVAL_BATCH,
                       help="streams of the perplexity procedures (char mode: fewer if the split is short)")
        q.add_argument("--eval-bptt", type=int, default=EVAL_BPTT,
                       help="time steps of a block of the perplexity procedures")

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
    t.add_argument("--tokenizer", default="word", choices=list(CONFIG_TOKENIZER),
                   help="word: whitespace words; char: every character (recur's --tokenizer char)")
    t.add_argument("--max-train-chars", type=int, default=0,
                   help="char mode: train on the first N tokens only (recur's --corpus-size; 0: all)")
    eval_args(t)

    e = sub.add_parser("eval", help="perplexity of a recur run directory on a PTB split")
    e.add_argument("--run", required=True)
    e.add_argument("--data", required=True)
    e.add_argument("--split", default="test", choices=["train", "valid", "test"])
    e.add_argument("--threads", type=int, default=2)
    e.add_argument("--tokenizer", default=None, choices=list(CONFIG_TOKENIZER),
                   help="the run's (config.json) unless given; must agree with it")
    eval_args(e)

    b = sub.add_parser("bench", help="tokens/s of training steps on random tokens")
    model_args(b)
    b.add_argument("--dropout", type=float, default=0.0)
    b.add_argument("--vocab", type=int, default=10000)
    b.add_argument("--warmup", type=int, default=3)
    b.add_argument("--steps", type=int, default=50)
    b.add_argument("--repeats", type=int, default=5)

    args = p.parse_args()
    if getattr(args, "lr", 0) is None:
        # The example's lr 20 would blow Adam up at once: each optimizer its own default.
        args.lr = 0.001 if args.optimizer == "adam" else 20.0
    if min(getattr(args, "eval_batch", 1), getattr(args, "eval_bptt", 1)) < 1:
        sys.exit("error: --eval-batch and --eval-bptt must be at least 1")
    {"train": cmd_train, "eval": cmd_eval, "bench": cmd_bench}[args.cmd](args)


if __name__ == "__main__":
    main()
