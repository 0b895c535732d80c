//! K-fold cross-validation of a classifier (`--folds K`, `cv.json`): stratified, seeded folds,
//! each fold's models trained on the other folds less a validation split, with a vocabulary of
//! their own training texts, and tested once on their fold; beside them, the bag-of-words
//! baselines (`baselines`) fitted on all the fold's other texts (the network's training and
//! validation texts, `--extra` included) and tested on the same fold.

#![warn(missing_docs)]

use super::baselines::{fit_and_test, BaselineScores};
use super::members::{
    evaluate_members, metrics_line, train_members, write_metrics, Holdout, MembersObserver, Stage, Start,
};
use super::run::{TrainSettings, CV};
use super::texts::{check_split, Sources, Texts};
use crate::data::tsv::{stratified_folds, stratified_split};
use crate::io::run_dir::RunDir;
use crate::models::ClassifierConfig;
use crate::tensor::Rng;
use crate::{Error, Result};
use serde::Serialize;
use std::time::Instant;

/// One fold of a cross-validation (`cv.json`).
#[derive(Clone, Debug, Serialize)]
pub struct FoldResult {
    /// The fold's number, from 1.
    pub fold: usize,
    /// Texts the fold's models trained on (`--extra` included).
    pub train_texts: usize,
    /// Texts they stopped early on.
    pub valid_texts: usize,
    /// The fold's own texts, tested once.
    pub test_texts: usize,
    /// Words in the fold's vocabulary, `<unk>` included.
    pub vocab_size: usize,
    /// One per ensemble member.
    pub best_epochs: Vec<usize>,
    /// The best epochs' validation loss (see `members::holdout_figures`).
    pub valid_loss: f64,
    /// The best epochs' validation accuracy.
    pub valid_accuracy: f64,
    /// Loss on the fold's texts.
    pub test_loss: f64,
    /// Accuracy on the fold's texts.
    pub test_accuracy: f64,
    /// `[true class][predicted class]` on the fold's test texts.
    pub confusion: Vec<Vec<usize>>,
    /// Seconds the fold's network took: vocabulary, training, test (printed, not written:
    /// a repeated run writes the same files).
    #[serde(skip_serializing)]
    pub seconds: f64,
    /// The baselines on the fold's test texts.
    pub baselines: BaselineScores,
}

/// Mean, spread and time of one model's fold accuracies.
#[derive(Clone, Debug, Serialize)]
pub struct Spread {
    /// Mean of the fold accuracies.
    pub mean_accuracy: f64,
    /// Population standard deviation of the fold accuracies.
    pub std_accuracy: f64,
    /// The lowest fold accuracy.
    pub min_accuracy: f64,
    /// The highest fold accuracy.
    pub max_accuracy: f64,
    /// Mean seconds a fold (printed, not written).
    #[serde(skip_serializing)]
    pub mean_seconds: f64,
}

impl Spread {
    /// The spread of `(accuracy, seconds)` over the folds.
    pub fn of(folds: impl Iterator<Item = (f64, f64)>) -> Spread {
        let (accs, seconds): (Vec<f64>, Vec<f64>) = folds.unzip();
        let k = accs.len() as f64;
        let mean = accs.iter().sum::<f64>() / k;
        Spread {
            mean_accuracy: mean,
            std_accuracy: (accs.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / k).sqrt(),
            min_accuracy: accs.iter().copied().fold(f64::INFINITY, f64::min),
            max_accuracy: accs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            mean_seconds: seconds.iter().sum::<f64>() / k,
        }
    }
}

/// The baselines' spreads over the folds (`cv.json`'s `baselines`).
#[derive(Clone, Debug, Serialize)]
pub struct BaselineSpreads {
    /// Multinomial naive Bayes on word counts.
    pub naive_bayes: Spread,
    /// Logistic regression on TF-IDF features.
    pub logistic_tfidf: Spread,
}

/// `cv.json`.
#[derive(Clone, Debug, Serialize)]
pub struct CvResult {
    /// K.
    pub folds: usize,
    /// Mean of the fold accuracies.
    pub mean_accuracy: f64,
    /// Population standard deviation of the fold accuracies (NumPy's `std`).
    pub std_accuracy: f64,
    /// The lowest fold accuracy.
    pub min_accuracy: f64,
    /// The highest fold accuracy.
    pub max_accuracy: f64,
    /// Summed over the folds: every text tested once.
    pub confusion: Vec<Vec<usize>>,
    /// Each fold's figures.
    pub per_fold: Vec<FoldResult>,
    /// Mean seconds a fold's network took (printed, not written).
    #[serde(skip_serializing)]
    pub mean_seconds: f64,
    /// The baselines over the same folds.
    pub baselines: BaselineSpreads,
}

impl CvResult {
    /// Writes `cv.json` (atomically).
    pub fn write(&self, run: &RunDir) -> Result<()> {
        run.write_json(CV, self)
    }
}

/// K-fold cross-validation: `members` models per fold (`template` with the fold's vocabulary),
/// tested once on its fold, and the baselines on the same split; `observer` is told of each
/// model's training and of each fold's result. Returns the result and the folds'
/// `metrics.jsonl` lines (also written after each fold).
pub fn cross_validate(
    settings: &TrainSettings,
    template: &ClassifierConfig,
    members: usize,
    sources: &Sources,
    seeds: &mut Rng,
    run: &RunDir,
    observer: &mut dyn MembersObserver,
) -> Result<(CvResult, Vec<String>)> {
    let k = settings.folds;
    let all = &sources.all;
    let n = all.len();
    let num_classes = template.num_classes;
    let fold_of = stratified_folds(&all.labels, k, seeds);
    let mut per_fold = Vec::with_capacity(k);
    let mut lines = Vec::new();
    let mut confusion = vec![vec![0; num_classes]; num_classes];
    for fold in 0..k {
        let test_rows: Vec<usize> = (0..n).filter(|&i| fold_of[i] == fold).collect();
        let rest: Vec<usize> = (0..n).filter(|&i| fold_of[i] != fold).collect();
        let (kept, held) = stratified_split(&rest, &all.labels, settings.valid_split, seeds);
        let (fit_texts, valid_texts, test_texts) =
            (all.subset(&kept), all.subset(&held), all.subset(&test_rows));
        check_split(&fit_texts, &valid_texts, settings)?;
        // With a split per member, the fold's members share every training text between them.
        let fit_texts: Texts = if settings.split_per_member { all.subset(&rest) } else { fit_texts };
        let fit_texts = fit_texts.with(&sources.extra);
        if test_texts.is_empty() {
            return Err(Error::msg(format!("--folds {k}: fold {} has no texts (only {n} texts)", fold + 1)));
        }
        let baselines = fit_and_test(&all.subset(&rest).with(&sources.extra), &test_texts, num_classes);
        let start = Instant::now();
        let vocab = sources.vocabulary(&fit_texts, settings);
        let config = ClassifierConfig { vocab_size: vocab.len(), ..template.clone() };
        let rows = sources.vectors.as_ref().map(|v| v.rows_of(&vocab));
        let (train_set, valid_set) = (fit_texts.encode(&vocab), valid_texts.encode(&vocab));
        let holdout = if settings.split_per_member {
            Holdout::PerMember { pool: &train_set, share: settings.valid_split }
        } else {
            Holdout::Shared { fit: &train_set, valid: &valid_set }
        };
        let (mut trained, histories) = train_members(
            settings,
            Start { config: &config, encoder: sources.encoder.as_ref(), vectors: rows.as_ref() },
            &holdout,
            members,
            seeds,
            observer,
            Stage { fold: Some(fold + 1), keep: None },
        )?;
        let valid = &trained.valid;
        let test = evaluate_members(&mut trained.models, &test_texts.encode(&vocab));
        for (row, fold_row) in confusion.iter_mut().zip(&test.confusion) {
            row.iter_mut().zip(fold_row).for_each(|(a, b)| *a += b);
        }
        for (m, history) in histories.iter().enumerate() {
            let member = (members > 1).then_some(m + 1);
            lines.extend(history.iter().map(|e| metrics_line(e, Some(fold + 1), member)));
        }
        write_metrics(run, &lines)?;
        let result = FoldResult {
            fold: fold + 1,
            train_texts: fit_texts.len(),
            valid_texts: valid_texts.len(),
            test_texts: test_texts.len(),
            vocab_size: vocab.len(),
            best_epochs: trained.best_epochs.clone(),
            valid_loss: valid.loss,
            valid_accuracy: valid.accuracy,
            test_loss: test.loss,
            test_accuracy: test.accuracy,
            confusion: test.confusion,
            seconds: start.elapsed().as_secs_f64(),
            baselines,
        };
        observer.fold_done(&result);
        per_fold.push(result);
    }
    let network = Spread::of(per_fold.iter().map(|f| (f.test_accuracy, f.seconds)));
    let baselines = BaselineSpreads {
        naive_bayes: Spread::of(
            per_fold.iter().map(|f| (f.baselines.naive_bayes.accuracy, f.baselines.naive_bayes.seconds)),
        ),
        logistic_tfidf: Spread::of(per_fold.iter().map(|f| {
            let score = &f.baselines.logistic_tfidf.score;
            (score.accuracy, score.seconds)
        })),
    };
    let cv = CvResult {
        folds: k,
        mean_accuracy: network.mean_accuracy,
        std_accuracy: network.std_accuracy,
        min_accuracy: network.min_accuracy,
        max_accuracy: network.max_accuracy,
        confusion,
        per_fold,
        mean_seconds: network.mean_seconds,
        baselines,
    };
    Ok((cv, lines))
}
