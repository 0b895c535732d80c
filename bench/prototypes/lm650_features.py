# Do the 650-unit PTB language model's representations carry a review's sentiment?
#
#   python3 bench/prototypes/lm650_features.py LM_RUN REVIEWS_FILE SEED [MODE...]
#
# (PyTorch, NumPy, scikit-learn; one thread.) LM_RUN is a `recur train --preset book-ch6-better`
# run (its model.safetensors and vocab.txt: a 2-layer LSTM 650 with tied embeddings, PyTorch's
# names and gate order). The reviews are tokenised as PTB is (lower case, numbers to N, no
# punctuation, "don't" -> "do n't", "'s" split off); each is read after an <eos>, as the LM saw
# sentences. Modes, each scored by 10-fold stratified cross-validation (the folds drawn from SEED):
#   frozen  : features of the frozen LM (mean, max and last of each layer's h over the words:
#             6 x 650), standardised, then L2 logistic regression with C chosen by 5 inner folds
#             of the training texts only;
#   finetune: the LM's embedding and LSTMs fine-tuned under a max-pooled head (ULMFiT's recipe
#             in short: discriminative rates, the head first, then everything), best epoch on
#             10% of the training texts;
#   nb      : multinomial naive Bayes on word counts (alpha 1) over the same tokens, for scale.
#
# Measured 2026-12-06 on IMDB, seed 1, with the book-ch6-better run's weights after epoch 21 of 40
# (valid perplexity 81.84; 88.3% of the reviews' words in its vocabulary), 10 folds:
#   python3 bench/prototypes/lm650_features.py RUN ../shared/data/sentiment/imdb_labelled.txt 1 nb frozen
#   nb 0.818, frozen 0.658 (C chosen by the inner folds: mostly 0.001, the strongest penalty tried)
# The finetune mode was stopped after 7 of the 10 folds (mean 0.664); recur's own
# `classify train --init-from` measures that route (docs/classify.md).
import sys, re, numpy as np, torch, torch.nn as nn
from safetensors.torch import load_file
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.preprocessing import StandardScaler
torch.set_num_threads(1)
run, reviews, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
modes = sys.argv[4:] or ['nb', 'frozen']

vocab = {w: i for i, w in enumerate(open(f'{run}/vocab.txt').read().split('\n')) if w}
w = load_file(f'{run}/model.safetensors')
V, E = w['encoder.weight'].shape
UNK, EOS = vocab['<unk>'], vocab['<eos>']


class LM(nn.Module):
    # The LM's two layers as two one-layer LSTMs, so that layer 1's outputs can be read too.
    def __init__(s):
        super().__init__()
        s.emb = nn.Embedding(V, E)
        s.l0 = nn.LSTM(E, E, batch_first=True); s.l1 = nn.LSTM(E, E, batch_first=True)
        s.emb.weight.data.copy_(w['encoder.weight'])
        for k, l in ((0, s.l0), (1, s.l1)):
            for n in ('weight_ih', 'weight_hh', 'bias_ih'):
                getattr(l, f'{n}_l0').data.copy_(w[f'rnn.{n}_l{k}'])
            hh = w.get(f'rnn.bias_hh_l{k}')
            l.bias_hh_l0.data.copy_(hh if hh is not None else torch.zeros(4 * E))

    def layers(s, ids):
        h0, _ = s.l0(s.emb(ids)); h1, _ = s.l1(h0)
        return h0, h1


def ptb_tokens(text):
    t = text.lower()
    t = re.sub(r"\bcan't\b", 'ca not', t).replace("won't", "wo n't").replace('ca not', "ca n't")
    t = re.sub(r"n't\b", " n't", t)
    t = re.sub(r"'(s|re|ve|ll|d|m)\b", r" '\1", t)
    t = re.sub(r"[^a-z0-9'. -]", ' ', t).replace(' - ', ' ').replace('.', ' ')
    return ['N' if re.fullmatch(r'[0-9]+', x) else x for x in t.split() if x != "'"]


texts, labels = [], []
for line in open(reviews, encoding='utf-8'):
    if not line.strip(): continue
    t, l = line.rstrip('\n').rsplit('\t', 1)
    texts.append(ptb_tokens(t) or ['<unk>']); labels.append(int(l))
y = np.array(labels)
ids = [[EOS] + [vocab.get(x, UNK) for x in t] for t in texts]
known = sum(i != UNK for q in ids for i in q[1:]) / sum(len(q) - 1 for q in ids)
print(f'{len(texts)} reviews; {known:.1%} of their words in the LM vocabulary', flush=True)


def folds(y, k, s):
    rng = np.random.default_rng(s); f = np.zeros(len(y), int)
    for c in np.unique(y):
        idx = np.where(y == c)[0]; rng.shuffle(idx); f[idx] = np.arange(len(idx)) % k
    return f


def pad(seqs):
    L = max(len(q) for q in seqs)
    x = torch.full((len(seqs), L), EOS, dtype=torch.long); m = torch.zeros((len(seqs), L), dtype=torch.bool)
    for i, q in enumerate(seqs): x[i, :len(q)] = torch.tensor(q); m[i, :len(q)] = True
    return x, m


def pooled(h, m):
    # mean, max and last real step over the words (the <eos> step 0 left out)
    m = m.clone(); m[:, 0] = False
    mf = m[..., None].float(); n = mf.sum(1).clamp(min=1)
    last = h[torch.arange(h.shape[0]), m.sum(1)]
    return torch.cat([(h * mf).sum(1) / n, h.masked_fill(~m[..., None], -1e9).max(1).values, last], 1)


fo = folds(y, 10, seed)
results = {}

if 'nb' in modes:
    acc = []
    for k in range(10):
        tr, te = fo != k, fo == k
        cv = CountVectorizer(analyzer=lambda t: t)
        nb = MultinomialNB().fit(cv.fit_transform([texts[i] for i in np.where(tr)[0]]), y[tr])
        acc.append((nb.predict(cv.transform([texts[i] for i in np.where(te)[0]])) == y[te]).mean())
    results['nb'] = acc

if 'frozen' in modes:
    lm = LM().eval()
    with torch.no_grad():
        feats = []
        for i in range(0, len(ids), 50):
            x, m = pad(ids[i:i + 50]); h0, h1 = lm.layers(x)
            feats.append(torch.cat([pooled(h0, m), pooled(h1, m)], 1))
        X = torch.cat(feats).numpy()
    acc, chosen = [], []
    for k in range(10):
        tr, te = fo != k, fo == k
        inner = folds(y[tr], 5, seed + 11)
        best = None
        for C in (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0):
            a = []
            for j in range(5):
                sc = StandardScaler().fit(X[tr][inner != j])
                clf = LogisticRegression(C=C, max_iter=2000).fit(sc.transform(X[tr][inner != j]), y[tr][inner != j])
                a.append((clf.predict(sc.transform(X[tr][inner == j])) == y[tr][inner == j]).mean())
            if best is None or np.mean(a) > best[0]: best = (np.mean(a), C)
        sc = StandardScaler().fit(X[tr])
        clf = LogisticRegression(C=best[1], max_iter=2000).fit(sc.transform(X[tr]), y[tr])
        acc.append((clf.predict(sc.transform(X[te])) == y[te]).mean()); chosen.append(best[1])
        print(f'fold {k}: frozen {acc[-1]:.2f} (C {best[1]})', flush=True)
    results['frozen'] = acc

if 'finetune' in modes:
    acc = []
    for k in range(10):
        train, te = np.where(fo != k)[0], np.where(fo == k)[0]
        inner = folds(y[train], 10, seed + 7) == 0
        tr, va = train[~inner], train[inner]
        torch.manual_seed(seed * 100 + k)
        lm = LM(); head = nn.Linear(3 * E, 1); drop = nn.Dropout(0.5)
        def logits(idx, training):
            x, m = pad([ids[i] for i in idx])
            if training: x = x.masked_fill((torch.rand(x.shape) < 0.1) & m, UNK)
            _, h1 = lm.layers(x)
            return head(drop(pooled(h1, m))).squeeze(1)
        groups = [{'params': head.parameters(), 'lr': 1e-3},
                  {'params': list(lm.l0.parameters()) + list(lm.l1.parameters()), 'lr': 1e-4},
                  {'params': lm.emb.parameters(), 'lr': 5e-5}]
        opt = torch.optim.Adam(groups)
        rng, best = np.random.default_rng(seed + k), (1e9, None, 0)
        for epoch in range(6):
            lm.train(); drop.train()
            for b0 in range(0, len(tr), 32):
                order = rng.permutation(tr) if b0 == 0 else order
                b = order[b0:b0 + 32]
                loss = nn.functional.binary_cross_entropy_with_logits(logits(b, True), torch.tensor(y[b], dtype=torch.float32))
                opt.zero_grad(); loss.backward()
                if epoch == 0:  # gradual unfreezing, in short: the head alone first
                    for p in list(lm.parameters()): p.grad = None
                opt.step()
            lm.eval(); drop.eval()
            with torch.no_grad():
                z = logits(va, False)
                vl = nn.functional.binary_cross_entropy_with_logits(z, torch.tensor(y[va], dtype=torch.float32)).item()
            if vl < best[0]:
                best = (vl, {n: p.detach().clone() for n, p in list(lm.named_parameters()) + [('head.' + n, p) for n, p in head.named_parameters()]}, epoch)
        for n, p in list(lm.named_parameters()) + [('head.' + n, p) for n, p in head.named_parameters()]:
            p.data.copy_(best[1][n])
        with torch.no_grad():
            acc.append(((logits(te, False) > 0).numpy() == y[te]).mean())
        print(f'fold {k}: finetune {acc[-1]:.2f} (best epoch {best[2]})', flush=True)
    results['finetune'] = acc

print(reviews.split('/')[-1], 'seed', seed, ' '.join(f'{k} {np.mean(v):.3f}' for k, v in results.items()))
