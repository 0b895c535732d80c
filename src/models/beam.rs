//! Beam search: the K most likely continuations kept at every step, for any model that scores
//! the next token of several hypotheses at once ([`Stepper`]). K = 1 is greedy decoding.
//!
//! A hypothesis' score is the sum of its tokens' log-probabilities. With an end token, a
//! hypothesis that chooses it is finished (the end token counted in its score, not in its
//! tokens); the search stops when no open hypothesis can still beat the best finished one (a
//! log-probability is never positive, so an open score only falls), or after `max_len` tokens.
//! With `length_norm`, finished hypotheses are ranked by their mean log-probability per token
//! (the end token included), so long outputs are not penalised for their length; the stopping
//! rule then waits for the beam to empty or `max_len`, since a longer hypothesis' mean can rise.
//!
//! Ties between equal scores go to the lower hypothesis index, then the lower token id, so the
//! search is deterministic and K = 1 repeats the greedy argmax.

/// A model that extends several hypotheses by one token.
pub trait Stepper {
    /// The log-probabilities of the next token (one row per hypothesis, one column per token)
    /// after each hypothesis' `last` token; the model's state for each row moves on by it.
    fn step(&mut self, last: &[u32]) -> Vec<Vec<f64>>;
    /// Keeps the states of `rows` (in that order, a row possibly twice) as the hypotheses of the
    /// next step.
    fn keep(&mut self, rows: &[usize]);
}

/// How the search runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Beam {
    /// Hypotheses kept at each step (1 = greedy).
    pub width: usize,
    /// The most tokens generated (the end token not counted).
    pub max_len: usize,
    /// The token that finishes a hypothesis (`None`: every hypothesis runs `max_len` tokens).
    pub end: Option<u32>,
    /// Tokens never chosen (e.g. `<unk>`).
    pub skip: Vec<u32>,
    /// Rank finished hypotheses by their mean log-probability per token, not their sum.
    pub length_norm: bool,
}

/// A finished search's best hypothesis.
#[derive(Clone, Debug, PartialEq)]
pub struct Hypothesis {
    /// Its tokens (without the end token).
    pub tokens: Vec<u32>,
    /// The sum of the log-probabilities of its tokens (and of the end token when it chose it).
    pub log_prob: f64,
    /// Whether it chose the end token.
    pub finished: bool,
}

impl Hypothesis {
    /// What it is ranked by: its log-probability, or that per token with `length_norm`.
    fn rank(&self, length_norm: bool) -> f64 {
        if length_norm {
            self.log_prob / (self.tokens.len() + usize::from(self.finished)).max(1) as f64
        } else {
            self.log_prob
        }
    }
}

/// `log softmax` of logits, in f64: what a [`Stepper`] returns for one hypothesis.
pub fn log_softmax(logits: impl Iterator<Item = f64>) -> Vec<f64> {
    let logits: Vec<f64> = logits.collect();
    let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let z = max + logits.iter().map(|l| (l - max).exp()).sum::<f64>().ln();
    logits.iter().map(|l| l - z).collect()
}

/// Searches from the model's current state (one row) after the token `last`.
pub fn beam_search<S: Stepper>(model: &mut S, last: u32, beam: &Beam) -> Hypothesis {
    assert!(beam.width >= 1, "a beam keeps at least one hypothesis");
    let mut open = vec![Hypothesis { tokens: Vec::new(), log_prob: 0.0, finished: false }];
    let mut lasts = vec![last];
    let mut best: Option<Hypothesis> = None;
    for _ in 0..beam.max_len {
        let log_probs = model.step(&lasts);
        // Every extension of every open hypothesis: (score, hypothesis row, token).
        let mut candidates: Vec<(f64, usize, u32)> = Vec::new();
        for (row, (hyp, lp)) in open.iter().zip(&log_probs).enumerate() {
            for (token, &l) in lp.iter().enumerate() {
                let token = token as u32;
                if l.is_finite() && !beam.skip.contains(&token) {
                    candidates.push((hyp.log_prob + l, row, token));
                }
            }
        }
        candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let mut next = Vec::new();
        let mut rows = Vec::new();
        for &(log_prob, row, token) in &candidates {
            if next.len() == beam.width {
                break;
            }
            if Some(token) == beam.end {
                let done = Hypothesis { tokens: open[row].tokens.clone(), log_prob, finished: true };
                if best.as_ref().is_none_or(|b| done.rank(beam.length_norm) > b.rank(beam.length_norm)) {
                    best = Some(done);
                }
                continue;
            }
            let mut tokens = open[row].tokens.clone();
            tokens.push(token);
            next.push(Hypothesis { tokens, log_prob, finished: false });
            rows.push(row);
        }
        let can_still_win = |h: &Hypothesis| match &best {
            None => true,
            Some(b) => beam.length_norm || h.log_prob > b.log_prob,
        };
        if next.is_empty() || !next.iter().any(can_still_win) {
            open.clear();
            break;
        }
        model.keep(&rows);
        lasts = next.iter().map(|h| *h.tokens.last().expect("extended")).collect();
        open = next;
    }
    // Hypotheses still open after `max_len` tokens compete with the finished ones.
    for h in open {
        if best.as_ref().is_none_or(|b| h.rank(beam.length_norm) > b.rank(beam.length_norm)) {
            best = Some(h);
        }
    }
    best.expect("a search with max_len >= 1 has a hypothesis")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed table of next-token log-probabilities keyed by the whole prefix: a model with
    /// memory, so greedy choices can be wrong.
    struct Table {
        vocab: usize,
        /// Rows: the prefix of each current hypothesis.
        prefixes: Vec<Vec<u32>>,
    }

    impl Table {
        fn log_probs(&self, prefix: &[u32]) -> Vec<f64> {
            // A deterministic pseudo-random distribution per prefix.
            let mut h: u64 = 1469598103934665603;
            for &t in prefix {
                h = (h ^ (t as u64 + 1)).wrapping_mul(1099511628211);
            }
            let raw: Vec<f64> = (0..self.vocab)
                .map(|v| {
                    let x =
                        (h ^ (v as u64).wrapping_mul(0x9E3779B97F4A7C15)).wrapping_mul(0xBF58476D1CE4E5B9);
                    ((x >> 11) as f64 / (1u64 << 53) as f64) * 4.0
                })
                .collect();
            let z = raw.iter().map(|r| r.exp()).sum::<f64>().ln();
            raw.iter().map(|r| r - z).collect()
        }
    }

    impl Stepper for Table {
        fn step(&mut self, last: &[u32]) -> Vec<Vec<f64>> {
            for (p, &t) in self.prefixes.iter_mut().zip(last) {
                p.push(t);
            }
            self.prefixes.iter().map(|p| self.log_probs(p)).collect()
        }
        fn keep(&mut self, rows: &[usize]) {
            self.prefixes = rows.iter().map(|&r| self.prefixes[r].clone()).collect();
        }
    }

    /// Every sequence up to `max_len` tokens, finished by `end` or at `max_len`: the best.
    fn exhaustive(table: &Table, beam: &Beam) -> Hypothesis {
        let mut best: Option<Hypothesis> = None;
        let mut stack = vec![(vec![0u32], Vec::<u32>::new(), 0.0)];
        while let Some((prefix, tokens, lp)) = stack.pop() {
            let next = table.log_probs(&prefix);
            for (t, &l) in next.iter().enumerate() {
                let t = t as u32;
                if beam.skip.contains(&t) {
                    continue;
                }
                let (mut p, mut tk) = (prefix.clone(), tokens.clone());
                p.push(t);
                let h = if Some(t) == beam.end {
                    Some(Hypothesis { tokens: tk, log_prob: lp + l, finished: true })
                } else {
                    tk.push(t);
                    if tk.len() == beam.max_len {
                        Some(Hypothesis { tokens: tk, log_prob: lp + l, finished: false })
                    } else {
                        stack.push((p, tk, lp + l));
                        None
                    }
                };
                if let Some(h) = h {
                    if best.as_ref().is_none_or(|b| h.rank(beam.length_norm) > b.rank(beam.length_norm)) {
                        best = Some(h);
                    }
                }
            }
        }
        best.unwrap()
    }

    fn search(vocab: usize, beam: &Beam) -> Hypothesis {
        let mut table = Table { vocab, prefixes: vec![vec![]] };
        beam_search(&mut table, 0, beam)
    }

    #[test]
    fn a_wide_enough_beam_finds_the_exact_best_sequence() {
        for end in [None, Some(2)] {
            for length_norm in [false, true] {
                let beam = Beam { width: 64, max_len: 4, end, skip: vec![], length_norm };
                let table = Table { vocab: 4, prefixes: vec![vec![]] };
                let want = exhaustive(&table, &beam);
                let got = search(4, &beam);
                assert_eq!(got.tokens, want.tokens, "end {end:?}, length_norm {length_norm}");
                assert!((got.log_prob - want.log_prob).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn width_one_is_greedy_and_wider_beams_never_score_lower() {
        let greedy = {
            let mut table = Table { vocab: 5, prefixes: vec![vec![]] };
            let (mut last, mut tokens, mut lp) = (0u32, Vec::new(), 0.0);
            for _ in 0..6 {
                let row = &table.step(&[last])[0];
                let best = (0..5).fold(0, |b, v| if row[v] > row[b] { v } else { b });
                lp += row[best];
                tokens.push(best as u32);
                last = best as u32;
            }
            (tokens, lp)
        };
        let beam = |width| Beam { width, max_len: 6, end: None, skip: vec![], length_norm: false };
        let one = search(5, &beam(1));
        assert_eq!((one.tokens.clone(), one.log_prob), greedy);
        let mut previous = one.log_prob;
        for width in [2, 4, 8, 32] {
            let h = search(5, &beam(width));
            assert!(h.log_prob >= previous - 1e-12, "width {width}: {} < {previous}", h.log_prob);
            previous = h.log_prob;
        }
        // Somewhere a wider beam must beat greedy, or this table tests nothing.
        assert!(previous > one.log_prob, "the table's greedy path is already the best");
    }

    #[test]
    fn skipped_tokens_are_never_chosen() {
        let beam = Beam { width: 8, max_len: 5, end: None, skip: vec![1, 3], length_norm: false };
        let h = search(4, &beam);
        assert!(h.tokens.iter().all(|t| ![1, 3].contains(t)), "{:?}", h.tokens);
    }
}
