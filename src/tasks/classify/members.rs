//! Runs of several models: `--ensemble M` members, whose class probabilities are averaged,
//! and the members of each cross-validation fold (`cv.rs`). Each model is one `Trainer::fit`
//! with no run directory, so no checkpoint mid-model; the final members of an ensemble without
//! folds are kept as each finishes ([`KeptMember`]), and `--resume` goes on from the first
//! member not kept, to the uninterrupted run's files. Their epochs go
//! into `metrics.jsonl`, each line with its `fold` and `member`; the final members' curves into
//! `loss.png`. Nothing here prints: a [`MembersObserver`] is told what happens, each model's
//! batches and epochs included (the command line's epoch lines and one TensorBoard run a model).

#![warn(missing_docs)]

use super::cv::FoldResult;
use super::pretrained::PretrainedEncoder;
use super::run::{state_dict_of, ClassifyRunConfig, TrainSettings};
use super::texts::{Plan, Sources};
use super::{evaluate, evaluation_of, predict_probabilities, ClassifyTask, Evaluation, Labelled};
use crate::data::tsv::stratified_split;
use crate::data::vectors::VectorRows;
use crate::io::checkpoint;
use crate::io::run_dir::{RunDir, METRICS};
use crate::io::write_atomic;
use crate::models::{Classifier, ClassifierConfig, Model};
use crate::optim::Optimizer;
use crate::plot::{epoch_ticks, write_panels, Chart, Mark, Panel, Series};
use crate::tensor::Rng;
use crate::train::{EpochStats, Observer, Outcome, TrainState, Trainer};
use crate::{Error, Result};
use ndarray::ArrayD;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Texts per batch when only measuring (no gradients).
pub const EVAL_BATCH: usize = 256;

/// The texts each ensemble member trains on and stops early on.
pub enum Holdout<'a> {
    /// Every member trains on `fit` and stops on `valid` (a --valid file, or one split).
    Shared {
        /// The training texts.
        fit: &'a Labelled,
        /// The validation texts.
        valid: &'a Labelled,
    },
    /// Each member holds out its own stratified `share` of `pool` (--split-per-member).
    PerMember {
        /// Every training text.
        pool: &'a Labelled,
        /// The share each member holds out.
        share: f64,
    },
}

/// One model about to train: its weights and generator drawn from its own seed (after its own
/// split, with --split-per-member).
pub struct Member<'a> {
    /// One model: the weights it trains.
    pub model: Classifier<f32>,
    train: Cow<'a, Labelled>,
    valid: Cow<'a, Labelled>,
    rng: Rng,
}

impl<'a> Member<'a> {
    /// Draws the member's seed from `seeds`, then from it the member's split (per member), its
    /// weights and, last, the generator of its batch order and word dropout. The drawn weights
    /// are then replaced as `start` says: the embedding and recurrent layers by the language
    /// model's (`--init-from`), the embedding rows of words with a vector by it (`--vectors`).
    pub fn new(holdout: &Holdout<'a>, start: Start, seeds: &mut Rng) -> Result<Self> {
        let mut rng = Rng::new(seeds.next_u64());
        let (train, valid) = match *holdout {
            Holdout::Shared { fit, valid } => (Cow::Borrowed(fit), Cow::Borrowed(valid)),
            Holdout::PerMember { pool, share } => {
                let rows: Vec<usize> = (0..pool.len()).collect();
                let (kept, held) = stratified_split(&rows, &pool.labels, share, &mut rng);
                (Cow::Owned(pool.subset(&kept)), Cow::Owned(pool.subset(&held)))
            }
        };
        let mut model = Classifier::new(start.config.clone(), &mut rng);
        if let Some(encoder) = start.encoder {
            encoder.apply(&mut model)?;
        }
        if let Some(rows) = start.vectors {
            set_embedding_rows(&mut model, rows)?;
        }
        Ok(Member { model, train, valid, rng })
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
pub struct Trained {
    /// The models, one per member.
    pub models: Vec<Classifier<f32>>,
    /// Each model's best epoch.
    pub best_epochs: Vec<usize>,
    /// Their validation figures (see [`holdout_figures`]).
    pub valid: Evaluation,
}

/// The validation figures of trained members: the ensemble's on the shared texts, or, when each
/// member had its own, the mean of the members' best-epoch figures (confusions summed).
pub fn holdout_figures(models: &mut [Classifier<f32>], holdout: &Holdout, own: &[Evaluation]) -> Evaluation {
    match holdout {
        Holdout::Shared { valid, .. } => evaluate_members(models, valid),
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

/// Class probabilities (M, C) of `seqs`: the mean over the members.
pub fn probabilities_of(models: &mut [Classifier<f32>], seqs: &[Vec<u32>]) -> ndarray::Array2<f64> {
    let mut sum = predict_probabilities(&mut models[0], seqs, EVAL_BATCH);
    for model in &mut models[1..] {
        sum += &predict_probabilities(model, seqs, EVAL_BATCH);
    }
    sum / models.len() as f64
}

/// Loss, accuracy and confusion matrix of one model or of the members' mean probabilities.
pub fn evaluate_members(models: &mut [Classifier<f32>], data: &Labelled) -> Evaluation {
    match models {
        [model] => evaluate(model, data, EVAL_BATCH),
        _ => evaluation_of(probabilities_of(models, &data.seqs).view(), &data.labels),
    }
}

/// Which model of a run of several is training.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelOf {
    /// Its cross-validation fold, from 1 (None: the final model, trained after the folds).
    pub fold: Option<usize>,
    /// The run's folds (0: no cross-validation).
    pub folds: usize,
    /// Its place in the ensemble, from 1.
    pub member: usize,
    /// The ensemble's members (1: no ensemble).
    pub members: usize,
}

impl ModelOf {
    /// The model's own folder name (its TensorBoard run): `fold-2`, `fold-2/member-3`, `final`
    /// (the model trained after the folds), `final/member-3`, or `member-3` (an ensemble with no
    /// folds). Numbers are padded to the width of their count, so that names sort: `fold-01` to
    /// `fold-10`.
    pub fn folder(&self) -> String {
        let padded = |k: usize, count: usize| format!("{k:0width$}", width = count.to_string().len());
        let mut parts = Vec::new();
        match self.fold {
            Some(fold) => parts.push(format!("fold-{}", padded(fold, self.folds))),
            None if self.folds >= 2 || self.members == 1 => parts.push("final".to_string()),
            None => {}
        }
        if self.members > 1 {
            parts.push(format!("member-{}", padded(self.member, self.members)));
        }
        parts.join("/")
    }

    /// Where an error names it: `fold 3, ensemble member 2, ` (empty for a lone final model).
    fn place(&self) -> String {
        let fold = self.fold.map(|f| format!("fold {f}, ")).unwrap_or_default();
        let member =
            if self.members > 1 { format!("ensemble member {}, ", self.member) } else { String::new() };
        fold + &member
    }
}

/// What a run of several models tells its caller: as the engine's [`Observer`], each model's
/// batches and epochs, and around them which model trains (each method does nothing unless
/// overridden).
pub trait MembersObserver: Observer {
    /// `model` is about to train; an error stops the run before it does.
    fn model_started(&mut self, _model: &ModelOf) -> Result<()> {
        Ok(())
    }
    /// `model`'s training ended (and, for a kept member, it was kept).
    fn model_done(&mut self, _model: &ModelOf) {}
    /// `model` was kept by an interrupted run and read back (its `best_epoch`), not trained.
    fn model_kept(&mut self, _model: &ModelOf, _best_epoch: usize) {}
    /// A cross-validation fold's models were trained and tested (`cv::cross_validate`).
    fn fold_done(&mut self, _fold: &FoldResult) {}
}

/// Tells nothing.
pub struct Quiet;

impl Observer for Quiet {}
impl MembersObserver for Quiet {}

/// What every model of a run starts as: its shape, the language model's weights with
/// `--init-from`, the pretrained word vectors of its vocabulary with `--vectors`.
#[derive(Clone, Copy)]
pub struct Start<'a> {
    /// The model's shape.
    pub config: &'a ClassifierConfig,
    /// The embedding and recurrent weights to start from (else they are drawn).
    pub encoder: Option<&'a PretrainedEncoder>,
    /// The embedding rows to start from (the others are drawn).
    pub vectors: Option<&'a VectorRows>,
}

/// Which models [`train_members`] trains.
#[derive(Clone, Copy)]
pub struct Stage<'a> {
    /// Their cross-validation fold, from 1 (None: the final model).
    pub fold: Option<usize>,
    /// The run directory whose final ensemble members are kept as each finishes, and read back
    /// instead of trained when an interrupted run kept them (see [`KeptMember`]); None: not kept.
    pub keep: Option<&'a RunDir>,
}

/// Sets the rows `rows.ids` of `model`'s embedding to `rows.values`.
pub fn set_embedding_rows(model: &mut Classifier<f32>, rows: &VectorRows) -> Result<()> {
    let params = model.params_mut();
    let id = params.find("embedding.weight").expect("a classifier has an embedding");
    let table = params.value_mut(id);
    if table.shape()[1] != rows.values.ncols() {
        return Err(Error::msg(format!(
            "the word vectors have {} numbers each; the embedding is {} wide",
            rows.values.ncols(),
            table.shape()[1]
        )));
    }
    for (&row, vector) in rows.ids.iter().zip(rows.values.rows()) {
        table.index_axis_mut(ndarray::Axis(0), row).assign(&vector);
    }
    Ok(())
}

/// `count` models, each started as `start` says from its own seed (drawn from `seeds`), each
/// trained through the engine with early stopping as `holdout` says, `observer` told of each.
/// `stage` says which models they are (see [`Stage`]). Returns them with each one's epochs.
pub fn train_members(
    settings: &TrainSettings,
    start: Start,
    holdout: &Holdout,
    count: usize,
    seeds: &mut Rng,
    observer: &mut dyn MembersObserver,
    stage: Stage,
) -> Result<(Trained, Vec<Vec<EpochStats>>)> {
    let Stage { fold, keep } = stage;
    let engine = &settings.engine;
    let (mut models, mut best_epochs, mut own, mut histories) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for k in 1..=count {
        let which = ModelOf { fold, folds: settings.folds, member: k, members: count };
        // Drawn whether or not the member is kept, so the next member's seed is the same.
        let mut member = Member::new(holdout, start, seeds)?;
        let kept = keep.map(|run| KeptMember::at(run, k));
        let (best_epoch, history) = match kept.as_ref().map(KeptMember::read).transpose()?.flatten() {
            Some((weights, finished)) => {
                member.model.load_state_dict(weights)?;
                observer.model_kept(&which, finished.best_epoch);
                (finished.best_epoch, finished.history)
            }
            None => {
                observer.model_started(&which)?;
                let mut state = TrainState::new(Optimizer::new(
                    settings.optimizer,
                    settings.engine.lr,
                    settings.momentum,
                ));
                let outcome = {
                    let mut task = member.task(settings);
                    let mut trainer =
                        Trainer { settings: engine, run: None, stop: None, observer: &mut *observer };
                    trainer.fit(&mut task, &mut state)?
                };
                let best_epoch = match outcome {
                    Outcome::Finished { best: Some((epoch, _)), .. } => epoch,
                    Outcome::Diverged { place: at, what, .. } => {
                        return Err(Error::msg(format!(
                            "{}{at}: {what}; start again with a lower --lr or with --clip",
                            which.place()
                        )));
                    }
                    other => unreachable!("a validated run with no stop flag ended {other:?}"),
                };
                let history = std::mem::take(&mut state.progress.history);
                if let Some(kept) = &kept {
                    kept.write(&member.model, &Finished { best_epoch, history: history.clone() })?;
                }
                observer.model_done(&which);
                (best_epoch, history)
            }
        };
        best_epochs.push(best_epoch);
        if matches!(holdout, Holdout::PerMember { .. }) {
            own.push(member.own_valid(settings));
        }
        histories.push(history);
        models.push(member.model);
    }
    let valid = holdout_figures(&mut models, holdout, &own);
    Ok((Trained { models, best_epochs, valid }, histories))
}

/// The folder of a run where the final members of an ensemble are kept as each finishes.
pub const KEPT: &str = "members";

/// A final ensemble member kept in `members/` of the run directory as it finishes:
/// `member-{k}.safetensors` (its best weights), then `member-{k}.json` (its best epoch and its
/// epochs' figures), each written atomically, the JSON last. An ensemble stopped part way
/// (Ctrl-C, a crash) goes on with `--resume` from the first member not kept: the members are
/// drawn in order from the run's seed, so it ends with the uninterrupted run's files. The folder
/// is removed once the ensemble is saved, and when a new run replaces the directory.
pub struct KeptMember {
    weights: std::path::PathBuf,
    figures: std::path::PathBuf,
}

/// A model's tensors by name.
pub type Weights = BTreeMap<String, ArrayD<f32>>;

/// What [`KeptMember`]'s JSON holds.
#[derive(Serialize, Deserialize)]
pub struct Finished {
    /// The epoch whose weights were kept.
    pub best_epoch: usize,
    /// Every epoch's figures.
    pub history: Vec<EpochStats>,
}

impl KeptMember {
    /// Member `k` (from 1) of `run`'s final ensemble.
    pub fn at(run: &RunDir, k: usize) -> Self {
        let folder = run.path(KEPT);
        KeptMember {
            weights: folder.join(format!("member-{k}.safetensors")),
            figures: folder.join(format!("member-{k}.json")),
        }
    }

    /// The member's weights and figures, if it was kept.
    pub fn read(&self) -> Result<Option<(Weights, Finished)>> {
        if !self.figures.exists() {
            return Ok(None);
        }
        let text = crate::io::read_text(&self.figures)?;
        let finished: Finished = serde_json::from_str(&text)
            .map_err(|e| Error::file(&self.figures, format!("is not a kept member's figures ({e})")))?;
        Ok(Some((checkpoint::load::<f32>(&self.weights)?, finished)))
    }

    /// Keeps `model`'s weights, then `finished`.
    pub fn write(&self, model: &Classifier<f32>, finished: &Finished) -> Result<()> {
        let folder = self.figures.parent().expect("a member's file is in members/");
        std::fs::create_dir_all(folder).map_err(|e| Error::io(folder, "create", e))?;
        checkpoint::save(&self.weights, &model.state_dict())?;
        let json = serde_json::to_string(finished).expect("a member's figures serialise");
        write_atomic(&self.figures, json.as_bytes())
    }

    /// Removes `run`'s kept members (after the ensemble is saved, or before a new run).
    pub fn clear(run: &RunDir) -> Result<()> {
        let folder = run.path(KEPT);
        if folder.exists() {
            std::fs::remove_dir_all(&folder).map_err(|e| Error::io(&folder, "remove", e))?;
        }
        Ok(())
    }
}

/// A `metrics.jsonl` line: the epoch's figures after its `fold` and `member`.
pub fn metrics_line(e: &EpochStats, fold: Option<usize>, member: Option<usize>) -> String {
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

/// Writes `metrics.jsonl`: `lines`, one a line.
pub fn write_metrics(run: &RunDir, lines: &[String]) -> Result<()> {
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    write_atomic(&run.path(METRICS), text.as_bytes())
}

/// The final model's members trained on `plan` (from the language model's weights with
/// `--init-from`, from the word vectors with `--vectors`, both in `sources`): their epochs added
/// to `lines` and written, their weights saved (under `member{k}.` for an ensemble), their
/// curves drawn.
pub fn train_final(
    config: &ClassifyRunConfig,
    plan: &Plan,
    sources: &Sources,
    seeds: &mut Rng,
    run: &RunDir,
    mut lines: Vec<String>,
    observer: &mut dyn MembersObserver,
) -> Result<Trained> {
    let settings = &config.train;
    let (train_set, valid_set) = (plan.fit.encode(&plan.vocab), plan.valid.encode(&plan.vocab));
    let holdout = holdout(plan, settings, &train_set, &valid_set);
    let rows = sources.vectors.as_ref().map(|v| v.rows_of(&plan.vocab));
    let (trained, histories) = train_members(
        settings,
        Start { config: &config.model, encoder: sources.encoder.as_ref(), vectors: rows.as_ref() },
        &holdout,
        config.members,
        seeds,
        observer,
        // An ensemble without folds goes on member by member after an interruption (`--resume`).
        Stage { fold: None, keep: (config.members > 1 && config.train.folds < 2).then_some(run) },
    )?;
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
    KeptMember::clear(run)?;
    let chart =
        Chart { title: "Cross-entropy", x_label: "epoch", y_label: "loss", log_y: false, series: &series };
    // The epoch each member's saved weights come from, as the engine marks a single run's.
    let marks: Vec<Mark> = trained
        .best_epochs
        .iter()
        .enumerate()
        .map(|(k, &epoch)| Mark {
            x: epoch as f64,
            label: if several {
                format!("member {}: saved epoch {epoch}", k + 1)
            } else {
                format!("saved: epoch {epoch}")
            },
        })
        .collect();
    let last = histories.iter().filter_map(|h| h.last()).map(|e| e.epoch).max().unwrap_or(1);
    write_panels(&run.path("loss"), &[Panel { chart, x_ticks: &epoch_ticks(last), marks: &marks }])?;
    Ok(trained)
}

/// The shared split, or each member's own.
pub fn holdout<'a>(
    plan: &Plan,
    settings: &TrainSettings,
    train: &'a Labelled,
    valid: &'a Labelled,
) -> Holdout<'a> {
    if plan.per_member {
        Holdout::PerMember { pool: train, share: settings.valid_split }
    } else {
        Holdout::Shared { fit: train, valid }
    }
}

#[cfg(test)]
mod tests {
    use super::ModelOf;

    #[test]
    fn model_folders_sort_and_number_as_the_metrics_lines() {
        let folder = |fold, folds, member, members| ModelOf { fold, folds, member, members }.folder();
        assert_eq!(folder(Some(2), 5, 1, 1), "fold-2");
        assert_eq!(folder(None, 5, 1, 1), "final");
        assert_eq!(folder(Some(3), 10, 2, 3), "fold-03/member-2");
        assert_eq!(folder(None, 10, 12, 12), "final/member-12");
        assert_eq!(folder(None, 0, 7, 12), "member-07");
        assert_eq!(folder(None, 0, 1, 1), "final");
        let mut names: Vec<String> = (1..=10).map(|f| folder(Some(f), 10, 1, 1)).collect();
        let numbered = names.clone();
        names.sort();
        assert_eq!(names, numbered, "fold-02 sorts before fold-10");
    }
}
