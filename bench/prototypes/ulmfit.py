# The ULMFiT route in miniature: is a review classifier's encoder better for having been a PTB
# language model first?
#
#   python3 bench/prototypes/ulmfit.py PTB_DIR REVIEWS_FILE SEED [LM_EPOCHS]
#
# (PyTorch and NumPy; one thread.) An LSTM language model (embedding 100, LSTM 128, PTB's 10,000
# words) is trained on PTB (SGD lr 20, clip 0.25, batch 20 x 35: the book's chapter-6 recipe);
# then, on each of 10 folds of the reviews (their words mapped to PTB's vocabulary, the rest to
# <unk>), the same encoder with a max-pooled head is fine-tuned (Adam 0.001, word dropout 0.3,
# best of 10 epochs on 10% of the training texts), from the LM's weights and from scratch.
# Measured 2026-12-06, IMDB seed 1, 2 LM epochs (train ppl 157.9; 87.0% of the reviews' words in
# PTB's vocabulary): from scratch 0.727, from the LM 0.666.
import sys, re, numpy as np, torch, torch.nn as nn
torch.set_num_threads(1)
ptb, reviews, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
lm_epochs = int(sys.argv[4]) if len(sys.argv) > 4 else 2
torch.manual_seed(seed)

words = open(f'{ptb}/ptb.train.txt').read().replace('\n', ' <eos> ').split()
vocab = {w: i for i, w in enumerate(dict.fromkeys(words))}
V, UNK = len(vocab), vocab['<unk>']
corpus = torch.tensor([vocab[w] for w in words])

class Encoder(nn.Module):
    def __init__(s):
        super().__init__(); s.emb = nn.Embedding(V, 100); s.rnn = nn.LSTM(100, 128, batch_first=True)
    def forward(s, ids, state=None):
        return s.rnn(s.emb(ids), state)

enc = Encoder(); decoder = nn.Linear(128, V)
for p in list(enc.parameters()) + list(decoder.parameters()):
    nn.init.uniform_(p, -0.1, 0.1)
start_weights = {k: v.clone() for k, v in enc.state_dict().items()}
N, T = 20, 35
streams = corpus[: len(corpus) // N * N].view(N, -1)
opt = torch.optim.SGD(list(enc.parameters()) + list(decoder.parameters()), lr=20)
for epoch in range(lm_epochs):
    state, total, count = None, 0.0, 0
    for i in range(0, streams.size(1) - 1 - T, T):
        x, y = streams[:, i:i + T], streams[:, i + 1:i + 1 + T]
        h, state = enc(x, state); state = tuple(s.detach() for s in state)
        loss = nn.functional.cross_entropy(decoder(h).reshape(-1, V), y.reshape(-1))
        opt.zero_grad(); loss.backward()
        nn.utils.clip_grad_norm_(list(enc.parameters()) + list(decoder.parameters()), 0.25); opt.step()
        total += loss.item(); count += 1
    print(f'LM epoch {epoch + 1}: train ppl {np.exp(total / count):.1f}', flush=True)
pretrained = {k: v.clone() for k, v in enc.state_dict().items()}

texts, labels = [], []
for line in open(reviews, encoding='utf-8'):
    if not line.strip(): continue
    t, l = line.rstrip('\n').rsplit('\t', 1)
    toks = re.sub(r"[^a-z0-9' -]", ' ', t.lower()).replace("'", " '").split()
    ids = [vocab.get('N' if w.isdigit() else w, UNK) for w in toks] or [UNK]
    texts.append(ids); labels.append(int(l))
y = np.array(labels)
known = sum(i != UNK for t in texts for i in t) / sum(len(t) for t in texts)
print(f'{len(texts)} reviews; {known:.1%} of their words in PTB\'s vocabulary', flush=True)

def folds(y, k, s):
    rng = np.random.default_rng(s); f = np.zeros(len(y), int)
    for c in np.unique(y):
        idx = np.where(y == c)[0]; rng.shuffle(idx); f[idx] = np.arange(len(idx)) % k
    return f

def pad(seqs):
    L = max(len(q) for q in seqs); ids = torch.zeros((len(seqs), L), dtype=torch.long); mask = torch.zeros((len(seqs), L), dtype=torch.bool)
    for i, q in enumerate(seqs): ids[i, :len(q)] = torch.tensor(q); mask[i, :len(q)] = True
    return ids, mask

def classify(weights, tr, va, te, s):
    torch.manual_seed(s); e = Encoder(); e.load_state_dict(weights); head = nn.Linear(128, 1)
    params = list(e.parameters()) + list(head.parameters()); opt = torch.optim.Adam(params, 1e-3)
    def logits(idx, train):
        ids, mask = pad([texts[i] for i in idx])
        if train: ids = ids.masked_fill((torch.rand(ids.shape) < 0.3) & mask, UNK)
        h, _ = e(ids); return head(h.masked_fill(~mask[..., None], -1e9).max(1).values).squeeze(1)
    best, rng = (-1.0, None), np.random.default_rng(s)
    for epoch in range(10):
        e.train(); order = rng.permutation(tr)
        for i in range(0, len(order), 32):
            b = order[i:i + 32]
            loss = nn.functional.binary_cross_entropy_with_logits(logits(b, True), torch.tensor(y[b], dtype=torch.float32))
            opt.zero_grad(); loss.backward(); opt.step()
        e.eval()
        with torch.no_grad(): acc = ((logits(va, False) > 0).numpy() == y[va]).mean()
        if acc > best[0]: best = (acc, [p.detach().clone() for p in params])
    for p, b in zip(params, best[1]): p.data.copy_(b)
    with torch.no_grad(): return ((logits(te, False) > 0).numpy() == y[te]).mean()

fo, res = folds(y, 10, seed), {'scratch': [], 'pretrained': []}
for fold in range(10):
    train, te = np.where(fo != fold)[0], np.where(fo == fold)[0]
    inner = folds(y[train], 10, seed + 7) == 0
    tr, va = train[~inner], train[inner]
    res['scratch'].append(classify(start_weights, tr, va, te, seed * 100 + fold))
    res['pretrained'].append(classify(pretrained, tr, va, te, seed * 100 + fold))
    print(fold, {k: round(float(np.mean(v)), 3) for k, v in res.items()}, flush=True)
print(reviews.split('/')[-1], seed, ' '.join(f'{k}:{np.mean(v):.3f}' for k, v in res.items()))
