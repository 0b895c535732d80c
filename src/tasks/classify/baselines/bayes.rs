//! Multinomial naive Bayes on word counts (scikit-learn's `MultinomialNB`): log priors from the
//! class frequencies, word log-probabilities with Laplace (add-alpha) smoothing over the
//! training vocabulary.
//!
//! ```text
//! log P(c)      = ln(texts of c / texts)
//! log P(w | c)  = ln((count of w in c's texts + alpha) / (words in c's texts + alpha |V|))
//! score(c, x)   = log P(c) + sum_w x_w log P(w | c)       predicted: the highest (first on ties)
//! ```

#![warn(missing_docs)]

use super::bag::SparseRow;

/// A fitted multinomial naive Bayes.
#[derive(Clone, Debug)]
pub struct NaiveBayes {
    /// `log P(c)` per class (`-inf` for a class with no training text).
    pub log_prior: Vec<f64>,
    /// `log P(w | c)`, one row of `features` per class.
    pub log_likelihood: Vec<Vec<f64>>,
}

impl NaiveBayes {
    /// Fits on `rows` (word counts over `features` words) labelled `labels` (< `classes`).
    pub fn fit(rows: &[SparseRow], labels: &[u32], classes: usize, features: usize, alpha: f64) -> Self {
        let mut texts = vec![0.0; classes];
        let mut counts = vec![vec![0.0; features]; classes];
        for (row, &label) in rows.iter().zip(labels) {
            texts[label as usize] += 1.0;
            for &(w, x) in row {
                counts[label as usize][w as usize] += x;
            }
        }
        let total: f64 = texts.iter().sum();
        let log_prior = texts.iter().map(|t| (t / total).ln()).collect();
        let log_likelihood = counts
            .iter()
            .map(|c| {
                let denominator = (c.iter().sum::<f64>() + alpha * features as f64).ln();
                c.iter().map(|n| (n + alpha).ln() - denominator).collect()
            })
            .collect();
        NaiveBayes { log_prior, log_likelihood }
    }

    /// `log P(c) + sum_w x_w log P(w | c)` per class: the joint log-probability up to the
    /// multinomial coefficient, which is the same for every class.
    pub fn log_joint(&self, row: &SparseRow) -> Vec<f64> {
        self.log_prior
            .iter()
            .zip(&self.log_likelihood)
            .map(|(prior, ll)| prior + row.iter().map(|&(w, x)| x * ll[w as usize]).sum::<f64>())
            .collect()
    }

    /// The class with the highest joint log-probability.
    pub fn predict(&self, row: &SparseRow) -> u32 {
        super::argmax(&self.log_joint(row))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Words a = 0, b = 1, c = 2. Class 0: "a a b"; class 1: "b c" and "c".
    /// Priors 1/3, 2/3. Class 0 counts a 2, b 1, c 0 (3 words): (n + 1) / (3 + 3) = 3/6, 2/6, 1/6.
    /// Class 1 counts a 0, b 1, c 2 (3 words): 1/6, 2/6, 3/6.
    fn fitted() -> NaiveBayes {
        let rows = vec![vec![(0, 2.0), (1, 1.0)], vec![(1, 1.0), (2, 1.0)], vec![(2, 1.0)]];
        NaiveBayes::fit(&rows, &[0, 1, 1], 2, 3, 1.0)
    }

    #[test]
    fn log_probabilities_by_hand() {
        let nb = fitted();
        let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        close(nb.log_prior[0], (1.0f64 / 3.0).ln());
        close(nb.log_prior[1], (2.0f64 / 3.0).ln());
        for (got, want) in nb.log_likelihood[0].iter().zip([3.0, 2.0, 1.0]) {
            close(*got, (want / 6.0f64).ln());
        }
        for (got, want) in nb.log_likelihood[1].iter().zip([1.0, 2.0, 3.0]) {
            close(*got, (want / 6.0f64).ln());
        }
        // "a c": class 0 = ln(1/3) + ln(3/6) + ln(1/6); class 1 = ln(2/3) + ln(1/6) + ln(3/6).
        let joint = nb.log_joint(&vec![(0, 1.0), (2, 1.0)]);
        close(joint[0], (1.0f64 / 3.0 * 0.5 / 6.0).ln());
        close(joint[1], (2.0f64 / 3.0 * 0.5 / 6.0).ln());
        assert_eq!(nb.predict(&vec![(0, 1.0), (2, 1.0)]), 1);
        // "a a": 1/3 (1/2)^2 = 1/12 against 2/3 (1/6)^2 = 1/54.
        let joint = nb.log_joint(&vec![(0, 2.0)]);
        close(joint[0], (1.0f64 / 12.0).ln());
        close(joint[1], (1.0f64 / 54.0).ln());
        assert_eq!(nb.predict(&vec![(0, 2.0)]), 0);
        // No known word: the prior decides.
        assert_eq!(nb.predict(&vec![]), 1);
    }
}
