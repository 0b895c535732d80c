//! Text generation from a language model: prime the state with the start words, then sample
//! one word at a time from `softmax(logits / temperature)`, restricted to the `top_k` most
//! likely words and never choosing an id in `skip` (the book's `RnnlmGen.generate`, with
//! PyTorch's example's temperature).

use super::Lm;
use crate::tensor::{Real, Rng};
use ndarray::Array2;

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
