//! Text generation from a language model: prime the state with the start words, then sample
//! one word at a time from `softmax(logits / temperature)`, restricted to the `top_k` most
//! likely words and never choosing an id in `skip` (the book's `RnnlmGen.generate`, with
//! PyTorch's example's temperature).

use super::beam::{beam_search, log_softmax, Beam, Hypothesis, Stepper};
use super::Lm;
use crate::tensor::{Real, Rng};
use ndarray::{Array2, Axis};

/// How the next word is drawn during generation.
#[derive(Clone, Debug, PartialEq)]
pub struct Sampling {
    /// Divides the logits: below 1 sharper, above 1 flatter; 0 picks the most likely word.
    pub temperature: f64,
    /// Sample among the k most likely words only (0 = all).
    pub top_k: usize,
    /// Ids never generated (e.g. `<unk>`).
    pub skip: Vec<u32>,
}

/// Feeds `start` (at least one id) through the model from a zero state, then generates `count`
/// ids. Returns only the generated ids.
pub fn generate<F: Real>(
    model: &mut Lm<F>,
    start: &[u32],
    count: usize,
    sampling: &Sampling,
    rng: &mut Rng,
) -> Vec<u32> {
    assert!(!start.is_empty(), "generate needs at least one start word");
    let was_training = model.is_training();
    model.set_training(false);
    model.reset_state();
    let xs = Array2::from_shape_vec((1, start.len()), start.to_vec()).expect("1 x len");
    let mut logits: Vec<f64> = last_logits(model, xs);
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let id = sample(&logits, sampling, rng);
        out.push(id);
        logits = last_logits(model, Array2::from_elem((1, 1), id));
    }
    model.reset_state();
    model.set_training(was_training);
    out
}

/// The `count` ids after `start` (at least one id) that are most likely together, by a beam
/// search of `width` hypotheses (1 = greedy), never choosing an id in `skip`; the model runs
/// from a zero state, as in [`generate`].
pub fn beam_generate<F: Real>(
    model: &mut Lm<F>,
    start: &[u32],
    count: usize,
    skip: &[u32],
    width: usize,
) -> Hypothesis {
    assert!(!start.is_empty(), "generate needs at least one start word");
    let was_training = model.is_training();
    model.set_training(false);
    model.reset_state();
    let (prime, last) = start.split_at(start.len() - 1);
    if !prime.is_empty() {
        model.scores(Array2::from_shape_vec((1, prime.len()), prime.to_vec()).expect("1 x len").view());
    }
    let beam = Beam { width, max_len: count, end: None, skip: skip.to_vec(), length_norm: false };
    let best = if count == 0 {
        Hypothesis { tokens: Vec::new(), log_prob: 0.0, finished: false }
    } else {
        beam_search(&mut LmStepper { model: &mut *model }, last[0], &beam)
    };
    model.reset_state();
    model.set_training(was_training);
    best
}

/// A language model stepping one row per hypothesis: its carried states are the hypotheses'.
struct LmStepper<'a, F: Real> {
    model: &'a mut Lm<F>,
}

impl<F: Real> Stepper for LmStepper<'_, F> {
    fn step(&mut self, last: &[u32]) -> Vec<Vec<f64>> {
        let xs = Array2::from_shape_vec((last.len(), 1), last.to_vec()).expect("K x 1");
        let scores = self.model.scores(xs.view());
        scores
            .index_axis(Axis(1), 0)
            .rows()
            .into_iter()
            .map(|row| log_softmax(row.iter().map(|&x| x.to_f64())))
            .collect()
    }

    fn keep(&mut self, rows: &[usize]) {
        let states: Vec<Option<Array2<F>>> =
            self.model.carried_states().into_iter().map(|s| s.map(|s| s.select(Axis(0), rows))).collect();
        self.model.set_carried_states(&states);
    }
}

fn last_logits<F: Real>(model: &mut Lm<F>, xs: Array2<u32>) -> Vec<f64> {
    let scores = model.scores(xs.view());
    let t = scores.dim().1;
    scores.slice(ndarray::s![0, t - 1, ..]).iter().map(|&x| Real::to_f64(x)).collect()
}

/// One draw from the restricted, tempered softmax of `logits`.
pub fn sample(logits: &[f64], sampling: &Sampling, rng: &mut Rng) -> u32 {
    let mut candidates: Vec<(u32, f64)> = logits
        .iter()
        .enumerate()
        .map(|(id, &l)| (id as u32, l))
        .filter(|(id, l)| !sampling.skip.contains(id) && l.is_finite())
        .collect();
    assert!(!candidates.is_empty(), "every word is skipped: nothing to generate");
    candidates.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    if sampling.temperature <= 0.0 {
        return candidates[0].0;
    }
    if sampling.top_k > 0 {
        candidates.truncate(sampling.top_k);
    }
    let max = candidates[0].1;
    let weights: Vec<f64> =
        candidates.iter().map(|(_, l)| ((l - max) / sampling.temperature).exp()).collect();
    let mut u = rng.uniform() * weights.iter().sum::<f64>();
    for ((id, _), w) in candidates.iter().zip(&weights) {
        if u < *w {
            return *id;
        }
        u -= w;
    }
    candidates.last().expect("not empty").0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::LmConfig;

    fn opts(temperature: f64, top_k: usize, skip: Vec<u32>) -> Sampling {
        Sampling { temperature, top_k, skip }
    }

    #[test]
    fn greedy_top_one_and_skip() {
        let logits = [0.1, 3.0, 2.0, -1.0];
        let mut rng = Rng::new(1);
        assert_eq!(sample(&logits, &opts(0.0, 0, vec![]), &mut rng), 1);
        assert_eq!(sample(&logits, &opts(0.0, 0, vec![1]), &mut rng), 2);
        for _ in 0..100 {
            assert_eq!(sample(&logits, &opts(1.0, 1, vec![]), &mut rng), 1);
            assert_ne!(sample(&logits, &opts(5.0, 0, vec![1, 2]), &mut rng), 1);
        }
    }

    /// The log-probability of `seq` after `start`, from one pass over the whole sequence.
    fn log_prob(model: &mut Lm<f64>, start: &[u32], seq: &[u32]) -> f64 {
        let all: Vec<u32> = start.iter().chain(seq).copied().collect();
        model.reset_state();
        let scores =
            model.scores(Array2::from_shape_vec((1, all.len()), all.clone()).unwrap().view()).to_owned();
        model.reset_state();
        (0..seq.len())
            .map(|k| {
                let t = start.len() - 1 + k;
                log_softmax(scores.slice(ndarray::s![0, t, ..]).iter().copied())[seq[k] as usize]
            })
            .sum()
    }

    #[test]
    fn the_lm_beam_is_greedy_at_width_one_and_exact_when_wide() {
        let config = LmConfig {
            cell: crate::layers::CellKind::Lstm,
            num_layers: 2,
            ..LmConfig::simple_rnnlm(4, 3, 5)
        };
        let mut model: Lm<f64> = Lm::new(config, &mut Rng::new(7));
        let start = [1, 2];
        let greedy = generate(&mut model, &start, 4, &opts(0.0, 0, vec![]), &mut Rng::new(1));
        let one = beam_generate(&mut model, &start, 4, &[], 1);
        assert_eq!(one.tokens, greedy);
        assert!((one.log_prob - log_prob(&mut model, &start, &greedy)).abs() < 1e-9);
        // Every sequence of 4 tokens over 4 words: the best by exhaustive search.
        let mut best = (f64::NEG_INFINITY, Vec::new());
        for code in 0..4u32.pow(4) {
            let seq: Vec<u32> = (0..4).map(|k| (code / 4u32.pow(k)) % 4).collect();
            let lp = log_prob(&mut model, &start, &seq);
            if lp > best.0 {
                best = (lp, seq);
            }
        }
        let wide = beam_generate(&mut model, &start, 4, &[], 64);
        assert_eq!(wide.tokens, best.1);
        assert!((wide.log_prob - best.0).abs() < 1e-9);
    }

    #[test]
    fn frequencies_follow_the_tempered_softmax() {
        let logits = [0.0, (2.0f64).ln()]; // p = 1/3, 2/3 at temperature 1; 1/5, 4/5 at 0.5
        let mut rng = Rng::new(2);
        for (temperature, want) in [(1.0, 2.0 / 3.0), (0.5, 0.8)] {
            let n = 20_000;
            let ones =
                (0..n).filter(|_| sample(&logits, &opts(temperature, 0, vec![]), &mut rng) == 1).count();
            let share = ones as f64 / n as f64;
            assert!((share - want).abs() < 0.015, "temperature {temperature}: {share} vs {want}");
        }
    }
}
