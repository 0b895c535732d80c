//! Multinomial logistic regression with an L2 penalty (scikit-learn's `LogisticRegression`,
//! `C = 1`, intercept not penalised), fitted by full-batch Nesterov-accelerated gradient descent:
//! deterministic, no line search, a fixed step from the loss's smoothness bound.
//!
//! ```text
//! loss(W, b) = mean_i [ logsumexp(W x_i + b) - (W x_i + b)_{y_i} ] + ||W||^2 / (2 C n)
//! ```
//!
//! which is scikit-learn's `C sum_i loss_i + ||W||^2 / 2` divided by `C n`: the same minimum.
//! The cross-entropy's Hessian in the scores is at most 1/2, so the gradient is Lipschitz with
//! `L = max_i (||x_i||^2 + 1) / 2 + 1 / (C n)`; the step is `1 / L` and the momentum
//! `(1 - sqrt(mu / L)) / (1 + sqrt(mu / L))` with `mu = 1 / (C n)`, the penalty's curvature.
//! It stops when the gradient's norm falls below a tolerance, or after a cap of iterations.

#![warn(missing_docs)]

use super::bag::SparseRow;
use serde::Serialize;

/// The penalised loss of labelled rows, as a function of the parameters `[W (classes x
/// features, row-major), b (classes)]`.
pub struct Objective<'a> {
    rows: &'a [SparseRow],
    labels: &'a [u32],
    classes: usize,
    features: usize,
    /// `1 / (C n)`.
    l2: f64,
}

impl<'a> Objective<'a> {
    /// The loss of `rows` (features < `features`) labelled `labels` (< `classes`), penalty `c`.
    pub fn new(rows: &'a [SparseRow], labels: &'a [u32], classes: usize, features: usize, c: f64) -> Self {
        Objective { rows, labels, classes, features, l2: 1.0 / (c * rows.len() as f64) }
    }

    /// The number of parameters: `classes * features` weights and `classes` biases.
    pub fn params_len(&self) -> usize {
        self.classes * (self.features + 1)
    }

    /// The loss at `params`; its gradient is written into `grad`.
    pub fn loss_grad(&self, params: &[f64], grad: &mut [f64]) -> f64 {
        let (k, f) = (self.classes, self.features);
        let (weights, bias) = params.split_at(k * f);
        grad.fill(0.0);
        let (grad_w, grad_b) = grad.split_at_mut(k * f);
        let n = self.rows.len() as f64;
        let mut scores = vec![0.0; k];
        let mut loss = 0.0;
        for (row, &label) in self.rows.iter().zip(self.labels) {
            scores_into(weights, bias, f, row, &mut scores);
            let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let log_sum = max + scores.iter().map(|s| (s - max).exp()).sum::<f64>().ln();
            loss += log_sum - scores[label as usize];
            for (c, s) in scores.iter().enumerate() {
                let d = ((s - log_sum).exp() - if c == label as usize { 1.0 } else { 0.0 }) / n;
                grad_b[c] += d;
                for &(w, x) in row {
                    grad_w[c * f + w as usize] += d * x;
                }
            }
        }
        let mut penalty = 0.0;
        for (g, w) in grad_w.iter_mut().zip(weights) {
            penalty += w * w;
            *g += self.l2 * w;
        }
        loss / n + 0.5 * self.l2 * penalty
    }

    /// A bound on the gradient's Lipschitz constant.
    fn smoothness(&self) -> f64 {
        let widest = self.rows.iter().map(|r| r.iter().map(|(_, x)| x * x).sum::<f64>()).fold(0.0, f64::max);
        0.5 * (widest + 1.0) + self.l2
    }
}

/// The scores `W x + b` of one row.
fn scores_into(weights: &[f64], bias: &[f64], features: usize, row: &SparseRow, scores: &mut [f64]) {
    for (c, s) in scores.iter_mut().enumerate() {
        *s = bias[c] + row.iter().map(|&(w, x)| weights[c * features + w as usize] * x).sum::<f64>();
    }
}

/// How the optimisation went.
#[derive(Clone, Debug, Serialize)]
pub struct Convergence {
    /// The loss at zero weights (`ln classes`).
    pub loss_start: f64,
    /// The loss at the weights kept.
    pub loss_end: f64,
    /// The gradient's norm there.
    pub gradient_norm: f64,
    /// Gradient steps taken.
    pub iterations: usize,
}

/// A fitted logistic regression.
#[derive(Clone, Debug)]
pub struct Logistic {
    classes: usize,
    features: usize,
    params: Vec<f64>,
}

impl Logistic {
    /// Minimises `objective` from zero weights until the gradient's norm is below `tolerance`
    /// or `max_iterations` steps were taken.
    pub fn fit(objective: &Objective, max_iterations: usize, tolerance: f64) -> (Self, Convergence) {
        let len = objective.params_len();
        let step = 1.0 / objective.smoothness();
        let ratio = (objective.l2 * step).sqrt();
        let momentum = (1.0 - ratio) / (1.0 + ratio);
        let mut grad = vec![0.0; len];
        let mut x = vec![0.0; len];
        let loss_start = objective.loss_grad(&x, &mut grad);
        let mut y = x.clone();
        let mut iterations = 0;
        // Steps from y, the point ahead; it is kept when its gradient is small enough.
        while iterations < max_iterations {
            objective.loss_grad(&y, &mut grad);
            if norm(&grad) < tolerance {
                x = y;
                break;
            }
            for i in 0..len {
                let next = y[i] - step * grad[i];
                y[i] = next + momentum * (next - x[i]);
                x[i] = next;
            }
            iterations += 1;
        }
        let loss_end = objective.loss_grad(&x, &mut grad);
        let fitted = Logistic { classes: objective.classes, features: objective.features, params: x };
        (fitted, Convergence { loss_start, loss_end, gradient_norm: norm(&grad), iterations })
    }

    /// The class scores `W x + b` of a row.
    pub fn scores(&self, row: &SparseRow) -> Vec<f64> {
        let (weights, bias) = self.params.split_at(self.classes * self.features);
        let mut scores = vec![0.0; self.classes];
        scores_into(weights, bias, self.features, row, &mut scores);
        scores
    }

    /// The class with the highest score.
    pub fn predict(&self, row: &SparseRow) -> u32 {
        super::argmax(&self.scores(row))
    }
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::Rng;

    #[test]
    fn gradient_matches_finite_differences() {
        // 3 classes, 4 features, 5 rows; parameters away from zero so every term matters.
        let rows: Vec<SparseRow> = vec![
            vec![(0, 1.0), (2, 0.5)],
            vec![(1, 2.0)],
            vec![(0, 0.3), (1, -1.0), (3, 0.7)],
            vec![],
            vec![(3, 1.5)],
        ];
        let labels = [0, 1, 2, 1, 0];
        let objective = Objective::new(&rows, &labels, 3, 4, 0.5);
        let mut rng = Rng::new(3);
        let params: Vec<f64> = (0..objective.params_len()).map(|_| rng.normal()).collect();
        let mut grad = vec![0.0; params.len()];
        objective.loss_grad(&params, &mut grad);
        let mut scratch = grad.clone();
        let h = 1e-6;
        for i in 0..params.len() {
            let (mut up, mut down) = (params.clone(), params.clone());
            up[i] += h;
            down[i] -= h;
            let numeric = (objective.loss_grad(&up, &mut scratch) - objective.loss_grad(&down, &mut scratch))
                / (2.0 * h);
            assert!(
                (numeric - grad[i]).abs() < 1e-8,
                "parameter {i}: analytic {} numeric {numeric}",
                grad[i]
            );
        }
    }

    #[test]
    fn separates_a_separable_set_and_converges() {
        // Feature 0 means class 0, feature 1 class 1; feature 2 appears in both.
        let rows: Vec<SparseRow> = vec![
            vec![(0, 1.0)],
            vec![(0, 0.8), (2, 0.6)],
            vec![(1, 1.0)],
            vec![(1, 0.6), (2, 0.8)],
            vec![(0, 0.6), (2, 0.8)],
            vec![(1, 0.8), (2, 0.6)],
        ];
        let labels = [0, 0, 1, 1, 0, 1];
        let objective = Objective::new(&rows, &labels, 2, 3, 1.0);
        let (model, fit) = Logistic::fit(&objective, 5000, 1e-9);
        assert!((fit.loss_start - 2.0f64.ln()).abs() < 1e-12, "{fit:?}");
        assert!(fit.loss_end < fit.loss_start - 0.1, "{fit:?}");
        assert!(fit.gradient_norm < 1e-9 && fit.iterations < 5000, "{fit:?}");
        for (row, &label) in rows.iter().zip(&labels) {
            assert_eq!(model.predict(row), label, "{row:?}");
        }
        // At the minimum every step away raises the loss.
        let mut grad = vec![0.0; objective.params_len()];
        for i in 0..model.params.len() {
            for delta in [1e-3, -1e-3] {
                let mut moved = model.params.clone();
                moved[i] += delta;
                assert!(objective.loss_grad(&moved, &mut grad) > fit.loss_end);
            }
        }
    }
}
