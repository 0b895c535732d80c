//! A language model's run read back to go on training (`recur train --resume`): its recorded
//! settings with what `--resume` changes, its data loaded again and checked against the run's
//! vocabulary and size, its model rebuilt (the checkpoint then replaces the weights).

#![warn(missing_docs)]

use crate::data::lm_data::{self, LmData};
use crate::io::check_memory;
use crate::io::run_dir::{RunConfig, RunDir, TrainSettings, CONFIG, VOCAB};
use crate::models::Lm;
use crate::tensor::Rng;
use crate::train::{BpttBatcher, Overrides};
use crate::{Error, Result};
use std::path::Path;

/// A run ready to go on from its checkpoint.
pub struct Resumable {
    /// `config.json` as recorded.
    pub config: RunConfig,
    /// The recorded training settings with the overrides applied.
    pub settings: TrainSettings,
    /// The run's data, loaded again.
    pub data: LmData,
    /// The batcher of the training corpus (its cursor comes from the checkpoint).
    pub batcher: BpttBatcher,
    /// The model built from the config (its weights come from the checkpoint).
    pub model: Lm<f32>,
}

/// Reads the run in `run` to go on training: `data_dir` replaces a PTB run's recorded folder,
/// `overrides` change its settings. Errors when the data no longer gives the run's vocabulary or
/// corpus size.
pub fn resumable(run: &RunDir, data_dir: Option<&Path>, overrides: &Overrides) -> Result<Resumable> {
    let config = run.read_config()?;
    let mut settings = config.train.clone().ok_or_else(|| {
        Error::file(&run.path(CONFIG), "no `train` settings; expected a run made by `recur train`")
    })?;
    settings.engine.override_with(overrides);
    let data = lm_data::load(&settings.data_source(config.tokenizer, data_dir)?)?;
    if run.read_vocab()? != data.train.vocab {
        return Err(Error::file(
            &run.path(VOCAB),
            format!(
                "differs from the vocabulary of {}: the data changed since the run started",
                settings.corpus
            ),
        ));
    }
    if data.train.ids.len() != settings.corpus_size {
        return Err(Error::msg(format!(
            "{} now has {} tokens; the run trained on {}",
            settings.corpus,
            data.train.ids.len(),
            settings.corpus_size
        )));
    }
    let batcher = BpttBatcher::new(data.train.ids.len(), settings.batch_size, settings.time_size)?;
    config.model.check().map_err(|m| Error::file(&run.path(CONFIG), m))?;
    check_memory(config.model.training_floats(settings.batch_size, settings.time_size), "this model")?;
    let model: Lm<f32> = Lm::new(config.model.clone(), &mut Rng::new(settings.seed));
    Ok(Resumable { config, settings, data, batcher, model })
}
