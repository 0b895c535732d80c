//! The bag-of-words baselines a practitioner tries first, fitted on the same training texts and
//! tested on the same texts as the network, with its tokens (`Texts::words`: the same tokenizer
//! and `--max-len`): multinomial naive Bayes on word counts ([`bayes`], alpha 1) and logistic
//! regression on TF-IDF features ([`tfidf`], [`logistic`], C = 1). Their features are every word
//! of the training texts (no `--max-vocab` or `--min-count`); a test word not among them is
//! dropped. In f64.

#![warn(missing_docs)]

pub mod bag;
pub mod bayes;
pub mod logistic;
pub mod tfidf;

use super::texts::Texts;
use bag::{SparseRow, WordIndex};
use bayes::NaiveBayes;
use logistic::{Convergence, Logistic, Objective};
use serde::Serialize;
use std::time::Instant;
use tfidf::Tfidf;

/// Naive Bayes's Laplace smoothing.
pub const ALPHA: f64 = 1.0;
/// Logistic regression's inverse L2 strength (scikit-learn's default).
pub const C: f64 = 1.0;
/// Logistic regression stops when its gradient's norm is below this...
pub const TOLERANCE: f64 = 1e-7;
/// ...or after this many steps.
pub const MAX_ITERATIONS: usize = 5000;

/// A baseline's accuracy on the test texts and the seconds it took (features, fit, test).
#[derive(Clone, Debug, Serialize)]
pub struct Score {
    /// Share of the test texts classified right.
    pub accuracy: f64,
    /// Seconds to build the features, fit and test: printed, never written, so that a run's
    /// files are the same byte for byte whenever it is repeated.
    #[serde(skip_serializing)]
    pub seconds: f64,
}

/// Logistic regression's score and how its optimisation went.
#[derive(Clone, Debug, Serialize)]
pub struct LogisticScore {
    /// Accuracy and seconds.
    #[serde(flatten)]
    pub score: Score,
    /// Loss before and after, the final gradient's norm, the steps.
    #[serde(flatten)]
    pub convergence: Convergence,
}

/// Both baselines on one split (`cv.json`'s and `result.json`'s `baselines`).
#[derive(Clone, Debug, Serialize)]
pub struct BaselineScores {
    /// Multinomial naive Bayes on word counts.
    pub naive_bayes: Score,
    /// Logistic regression on TF-IDF features.
    pub logistic_tfidf: LogisticScore,
}

/// Fits both baselines on `train` and tests them on `test` (not empty).
pub fn fit_and_test(train: &Texts, test: &Texts, classes: usize) -> BaselineScores {
    let start = Instant::now();
    let index = WordIndex::of(&train.words);
    let counts = |texts: &Texts| -> Vec<SparseRow> { texts.words.iter().map(|w| index.counts(w)).collect() };
    let (train_counts, test_counts) = (counts(train), counts(test));
    let features_seconds = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let bayes = NaiveBayes::fit(&train_counts, &train.labels, classes, index.len(), ALPHA);
    let accuracy = share_right(test_counts.iter().map(|r| bayes.predict(r)), &test.labels);
    let naive_bayes = Score { accuracy, seconds: features_seconds + start.elapsed().as_secs_f64() };

    let start = Instant::now();
    let tfidf = Tfidf::fit(&train_counts, index.len());
    let train_rows: Vec<SparseRow> = train_counts.iter().map(|r| tfidf.transform(r)).collect();
    let objective = Objective::new(&train_rows, &train.labels, classes, index.len(), C);
    let (model, convergence) = Logistic::fit(&objective, MAX_ITERATIONS, TOLERANCE);
    let accuracy = share_right(test_counts.iter().map(|r| model.predict(&tfidf.transform(r))), &test.labels);
    let score = Score { accuracy, seconds: features_seconds + start.elapsed().as_secs_f64() };
    BaselineScores { naive_bayes, logistic_tfidf: LogisticScore { score, convergence } }
}

/// The share of `predicted` equal to `labels`.
fn share_right(predicted: impl Iterator<Item = u32>, labels: &[u32]) -> f64 {
    let right = predicted.zip(labels).filter(|(p, l)| p == *l).count();
    right as f64 / labels.len() as f64
}

/// The index of the largest value (the first of equals).
fn argmax(values: &[f64]) -> u32 {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if *v > values[best] {
            best = i;
        }
    }
    best as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[(&str, u32)]) -> Texts {
        Texts {
            words: lines.iter().map(|(t, _)| t.split_whitespace().map(str::to_string).collect()).collect(),
            labels: lines.iter().map(|(_, l)| *l).collect(),
        }
    }

    #[test]
    fn both_baselines_learn_which_words_mean_which_class() {
        let train = texts(&[
            ("good fine film", 1),
            ("a good plot", 1),
            ("great fine acting", 1),
            ("bad dull film", 0),
            ("a bad plot", 0),
            ("awful dull acting", 0),
        ]);
        let test = texts(&[("good great", 1), ("dull awful unseen", 0), ("fine film", 1), ("bad", 0)]);
        let scores = fit_and_test(&train, &test, 2);
        assert_eq!(scores.naive_bayes.accuracy, 1.0);
        assert_eq!(scores.logistic_tfidf.score.accuracy, 1.0);
        let fit = &scores.logistic_tfidf.convergence;
        assert!(fit.loss_end < fit.loss_start && fit.gradient_norm < TOLERANCE, "{fit:?}");
        assert_eq!(argmax(&[1.0, 3.0, 3.0]), 1);
    }
}
