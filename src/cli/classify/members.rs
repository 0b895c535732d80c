//! Runs of several models: `--folds K` cross-validation and `--ensemble M` members. Each model
//! is one `Trainer::fit` with no run directory (`run: None`): no checkpoint, no Ctrl-C handler
//! (an interrupt ends the process at once, every file written so far whole), and so no
//! `--resume` for such runs. Their epochs go into `metrics.jsonl` here, each line with its
//! `fold` and `member`; the final members' curves into `loss.png`.

use super::train::{check_split, epoch_line, holdout, vocabulary, Plan, Sources};
use super::{state_dict_of, ClassifyRunConfig, Texts, TrainSettings};
use recur::data::tsv::{stratified_folds, stratified_split, Classes};
use recur::io::run_dir::{RunDir, METRICS};
use recur::io::write_atomic;
use recur::models::{Classifier, ClassifierConfig};
use recur::optim::Optimizer;
use recur::plot::{write_chart, Chart, Series};
use recur::tasks::classify::{evaluate, Evaluation, Labelled};
use recur::tasks::ClassifyTask;
use recur::tensor::Rng;
use recur::train::{EpochStats, Observer, Outcome, TrainState, Trainer};
use recur::{Error, Result};
use serde::Serialize;
use std::borrow::Cow;
use std::time::Instant;

/// The texts each ensemble member trains on and stops early on.
pub(super) enum Holdout<'a> {
    /// Every member trains on `fit` and stops on `valid` (a --valid file, or one split).
    Shared { fit: &'a Labelled, valid: &'a Labelled },
    /// Each member holds out its own stratified `share` of `pool` (--split-per-member).
    PerMember { pool: &'a Labelled, share: f64 },
}

/// One model about to train: its weights and generator drawn from its own seed (after its own
/// split, with --split-per-member).
pub(super) struct Member<'a> {
    pub model: Classifier<f32>,
    train: Cow<'a, Labelled>,
    valid: Cow<'a, Labelled>,
    rng: Rng,
}

impl<'a> Member<'a> {
    /// Draws the member's seed from `seeds`, then from it the member's split (per member), its
    /// weights and, last, the generator of its batch order and word dropout.
    pub fn new(holdout: &Holdout<'a>, config: &ClassifierConfig, seeds: &mut Rng) -> Self {
        let mut rng = Rng::new(seeds.next_u64());
        let (train, valid) = match *holdout {
            Holdout::Shared { fit, valid } => (Cow::Borrowed(fit), Cow::Borrowed(valid)),
            Holdout::PerMember { pool, share } => {
                let rows: Vec<usize> = (0..pool.len()).collect();
                let (kept, held) = stratified_split(&rows, &pool.labels, share, &mut rng);
                (Cow::Owned(pool.subset(&kept)), Cow::Owned(pool.subset(&held)))
            }
        };
        let model = Classifier::new(config.clone(), &mut rng);
        Member { model, train, valid, rng }
    }

    /// The engine's task for this member.
    pub fn task(&mut self, settings: &TrainSettings) -> ClassifyTask<'_, f32> {
        ClassifyTask::new(&mut self.model, &self.train, settings.batch_size, self.rng.clone())
            .validated(&self.valid, settings.valid_batch())
            .word_dropout(settings.word_dropout)
    }

    /// The member's figures on its own validation texts, in the batches validation used: after
    /// training, those of its best epoch, whose weights the engine restored.
    pub fn own_valid(&mut self, settings: &TrainSettings) -> Evaluation {
        evaluate(&mut self.model, &self.valid, settings.valid_batch())
    }
}

/// Trained models: their best epochs and validation figures (see [`holdout_figures`]).
pub(super) struct Trained {
    pub models: Vec<Classifier<f32>>,
    pub best_epochs: Vec<usize>,
    pub valid: Evaluation,
}

/// The validation figures of trained members: the ensemble's on the shared texts, or, when each
/// member had its own, the mean of the members' best-epoch figures (confusions summed).
pub(super) fn holdout_figures(
    models: &mut [Classifier<f32>],
    holdout: &Holdout,
    own: &[Evaluation],
) -> Evaluation {
    match holdout {
        Holdout::Shared { valid, .. } => super::evaluate_members(models, valid),
        Holdout::PerMember { .. } => {
            let m = own.len() as f64;
            let mut confusion = own[0].confusion.clone();
            for e in &own[1..] {
                for (row, add) in confusion.iter_mut().zip(&e.confusion) {
                    row.iter_mut().zip(add).for_each(|(a, b)| *a += b);
                }
            }
            Evaluation {
                loss: own.iter().map(|e| e.loss).sum::<f64>() / m,
                accuracy: own.iter().map(|e| e.accuracy).sum::<f64>() / m,
                confusion,
            }
        }
    }
}

/// Prints each epoch's line when `verbose`.
struct Lines {
    verbose: bool,
}

impl Observer for Lines {
    fn epoch_done(&mut self, stats: &EpochStats) {
        if self.verbose {
            println!("{}", epoch_line(stats));
        }
    }
}

/// `count` models, each from its own seed (drawn from `seeds`), each trained through the engine
/// with early stopping as `holdout` says. `place` names them in errors (`fold 3, `). Returns
/// them with each one's epochs.
fn train_members(
    settings: &TrainSettings,
    config: &ClassifierConfig,
    holdout: &Holdout,
    count: usize,
    seeds: &mut Rng,
    verbose: bool,
    place: &str,
) -> Result<(Trained, Vec<Vec<EpochStats>>)> {
    let engine = settings.engine();
    let (mut models, mut best_epochs, mut own, mut histories) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for k in 1..=count {
        if verbose && count > 1 {
            println!("ensemble member {k}/{count}");
        }
        let mut member = Member::new(holdout, config, seeds);
        let mut state = TrainState::new(Optimizer::new(settings.optimizer, settings.lr, settings.momentum));
        let outcome = {
            let mut task = member.task(settings);
            let mut lines = Lines { verbose };
            let mut trainer = Trainer { settings: &engine, run: None, stop: None, observer: &mut lines };
            trainer.fit(&mut task, &mut state)?
        };
        match outcome {
            Outcome::Finished { best: Some((epoch, _)), .. } => best_epochs.push(epoch),
            Outcome::Diverged { place: at, what, .. } => {
                let member = if count > 1 { format!("ensemble member {k}, ") } else { String::new() };
                return Err(Error::msg(format!(
                    "{place}{member}{at}: {what}; runs with several models keep no checkpoint: start again with a \
                     lower --lr or with --clip"
                )));
            }
            other => unreachable!("a validated run with no stop flag ended {other:?}"),
        }
        if matches!(holdout, Holdout::PerMember { .. }) {
            own.push(member.own_valid(settings));
        }
        histories.push(std::mem::take(&mut state.progress.history));
        models.push(member.model);
    }
    let valid = holdout_figures(&mut models, holdout, &own);
    Ok((Trained { models, best_epochs, valid }, histories))
}

/// A `metrics.jsonl` line: the epoch's figures after its `fold` and `member`.
fn metrics_line(e: &EpochStats, fold: Option<usize>, member: Option<usize>) -> String {
    let body = serde_json::to_string(e).expect("EpochStats always serialises");
    let mut line = String::from("{");
    if let Some(fold) = fold {
        line.push_str(&format!("\"fold\":{fold},"));
    }
    if let Some(member) = member {
        line.push_str(&format!("\"member\":{member},"));
    }
    line.push_str(&body[1..]);
    line
}

fn write_metrics(run: &RunDir, lines: &[String]) -> Result<()> {
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    write_atomic(&run.path(METRICS), text.as_bytes())
}

/// The final model's members trained on `plan`: their epochs added to `lines` and written,
/// their weights saved (under `member{k}.` for an ensemble), their curves drawn.
pub(super) fn train_final(
    config: &ClassifyRunConfig,
    plan: &Plan,
    seeds: &mut Rng,
    run: &RunDir,
    mut lines: Vec<String>,
) -> Result<Trained> {
    let settings = &config.train;
    let (train_set, valid_set) = (plan.fit.encode(&plan.vocab), plan.valid.encode(&plan.vocab));
    let holdout = holdout(plan, settings, &train_set, &valid_set);
    let (trained, histories) =
        train_members(settings, &config.model, &holdout, config.members, seeds, true, "")?;
    let several = histories.len() > 1;
    let mut series = Vec::new();
    for (k, history) in histories.iter().enumerate() {
        let member = several.then_some(k + 1);
        lines.extend(history.iter().map(|e| metrics_line(e, None, member)));
        let name = |what: &str| if several { format!("{what} (member {})", k + 1) } else { what.to_string() };
        let points =
            |key: &str| history.iter().filter_map(|e| Some((e.epoch as f64, e.figure(key)?))).collect();
        series.push(Series { name: name("train"), points: points("train_loss") });
        series.push(Series { name: name("valid"), points: points("valid_loss") });
    }
    write_metrics(run, &lines)?;
    run.save_tensors(&state_dict_of(&trained.models))?;
    let chart =
        Chart { title: "Cross-entropy", x_label: "epoch", y_label: "loss", log_y: false, series: &series };
    write_chart(&run.path("loss"), &chart)?;
    Ok(trained)
}

/// One fold of a cross-validation (`cv.json`).
#[derive(Clone, Debug, Serialize)]
struct FoldResult {
    fold: usize,
    train_texts: usize,
    valid_texts: usize,
    test_texts: usize,
    vocab_size: usize,
    /// One per ensemble member.
    best_epochs: Vec<usize>,
    valid_loss: f64,
    valid_accuracy: f64,
    test_loss: f64,
    test_accuracy: f64,
    /// `[true class][predicted class]` on the fold's test texts.
    confusion: Vec<Vec<usize>>,
}

/// `cv.json`.
#[derive(Clone, Debug, Serialize)]
pub(super) struct CvResult {
    folds: usize,
    mean_accuracy: f64,
    /// Population standard deviation of the fold accuracies (NumPy's `std`).
    std_accuracy: f64,
    min_accuracy: f64,
    max_accuracy: f64,
    /// Summed over the folds: every text tested once.
    confusion: Vec<Vec<usize>>,
    per_fold: Vec<FoldResult>,
}

/// K-fold cross-validation: `members` models per fold (`template` with the fold's vocabulary),
/// tested once on its fold. Returns the result and the folds' `metrics.jsonl` lines (also
/// written after each fold).
pub(super) fn cross_validate(
    settings: &TrainSettings,
    template: &ClassifierConfig,
    members: usize,
    sources: &Sources,
    classes: &Classes,
    seeds: &mut Rng,
    run: &RunDir,
) -> Result<(CvResult, Vec<String>)> {
    let k = settings.folds;
    let all = &sources.all;
    let n = all.len();
    let num_classes = classes.len();
    let fold_of = stratified_folds(&all.labels, k, seeds);
    println!(
        "{k}-fold cross-validation (stratified, seed {}): each fold's model trains on the other folds \
         less {} for early stopping",
        settings.seed, settings.valid_split
    );
    let mut per_fold = Vec::with_capacity(k);
    let mut lines = Vec::new();
    let mut confusion = vec![vec![0; num_classes]; num_classes];
    for fold in 0..k {
        let start = Instant::now();
        let test_rows: Vec<usize> = (0..n).filter(|&i| fold_of[i] == fold).collect();
        let rest: Vec<usize> = (0..n).filter(|&i| fold_of[i] != fold).collect();
        let (kept, held) = stratified_split(&rest, &all.labels, settings.valid_split, seeds);
        let (fit_texts, valid_texts, test_texts) =
            (all.subset(&kept), all.subset(&held), all.subset(&test_rows));
        check_split(&fit_texts, &valid_texts, settings)?;
        // With a split per member, the fold's members share every training text between them.
        let fit_texts: Texts = if settings.split_per_member { all.subset(&rest) } else { fit_texts };
        let fit_texts = fit_texts.with(&sources.extra);
        if test_texts.len() == 0 {
            return Err(Error::msg(format!("--folds {k}: fold {} has no texts (only {n} texts)", fold + 1)));
        }
        let vocab = vocabulary(&fit_texts, settings);
        let config = ClassifierConfig { vocab_size: vocab.len(), ..template.clone() };
        let (train_set, valid_set) = (fit_texts.encode(&vocab), valid_texts.encode(&vocab));
        let holdout = if settings.split_per_member {
            Holdout::PerMember { pool: &train_set, share: settings.valid_split }
        } else {
            Holdout::Shared { fit: &train_set, valid: &valid_set }
        };
        let place = format!("fold {}, ", fold + 1);
        let (mut trained, histories) =
            train_members(settings, &config, &holdout, members, seeds, false, &place)?;
        let valid = &trained.valid;
        let test = super::evaluate_members(&mut trained.models, &test_texts.encode(&vocab));
        println!(
            "fold {:2}/{k}: {} train, {} valid, {} test texts, vocabulary {}; best epoch {:?}: valid loss \
             {:.4}, accuracy {:.3}; test loss {:.4}, accuracy {:.3} ({:.1} s)",
            fold + 1,
            fit_texts.len(),
            valid_texts.len(),
            test_texts.len(),
            vocab.len(),
            trained.best_epochs,
            valid.loss,
            valid.accuracy,
            test.loss,
            test.accuracy,
            start.elapsed().as_secs_f64()
        );
        for (row, fold_row) in confusion.iter_mut().zip(&test.confusion) {
            row.iter_mut().zip(fold_row).for_each(|(a, b)| *a += b);
        }
        for (m, history) in histories.iter().enumerate() {
            let member = (members > 1).then_some(m + 1);
            lines.extend(history.iter().map(|e| metrics_line(e, Some(fold + 1), member)));
        }
        write_metrics(run, &lines)?;
        per_fold.push(FoldResult {
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
        });
    }
    let accs: Vec<f64> = per_fold.iter().map(|f| f.test_accuracy).collect();
    let mean = accs.iter().sum::<f64>() / k as f64;
    let std = (accs.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / k as f64).sqrt();
    let min = accs.iter().copied().fold(f64::INFINITY, f64::min);
    let max = accs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let valid_mean = per_fold.iter().map(|f| f.valid_accuracy).sum::<f64>() / k as f64;
    println!(
        "{k}-fold cross-validated accuracy: {mean:.4} +- {std:.4} (mean +- std over folds; min {min:.3}, max {max:.3}; \
         mean validation accuracy {valid_mean:.4})"
    );
    super::print_confusion("every fold's test texts", classes, &confusion);
    let cv = CvResult {
        folds: k,
        mean_accuracy: mean,
        std_accuracy: std,
        min_accuracy: min,
        max_accuracy: max,
        confusion,
        per_fold,
    };
    Ok((cv, lines))
}
