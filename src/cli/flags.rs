//! Flags every `train` subcommand shares, with one name and one meaning each (the README's
//! "flag vocabulary"): how the engine schedules and guards a run. A subcommand flattens the
//! group into its own arguments (`#[command(flatten)]`); each is optional, so `--resume` can
//! tell which were given.

use clap::Args;
use recur::optim::{LrRule, LrSchedule};
use recur::train::{OnNan, Overrides, Settings};
use recur::{Error, Result};
use std::path::PathBuf;

/// The learning-rate rule, weight decay, early stopping and the NaN policy.
#[derive(Args, Debug, Clone, Default)]
pub struct ScheduleFlags {
    /// Learning-rate rule between epochs: the same rate, multiplied by --lr-factor after an
    /// epoch that did not improve the validation score (plateau), or multiplied by --lr-factor
    /// each epoch after --decay-after (zaremba) [default: constant, or the preset's].
    #[arg(long, value_enum)]
    pub lr_schedule: Option<LrSchedule>,
    /// The multiplier of each change, between 0 and 1 (Keras' `factor`, PyTorch's `gamma`):
    /// 0.25 divides the rate by 4 [default: 0.25 for plateau, 0.5 for zaremba, or the preset's].
    #[arg(long)]
    pub lr_factor: Option<f64>,
    /// Zaremba: epochs at the initial rate before the decay starts [default: 0, or the preset's].
    #[arg(long, value_name = "EPOCHS")]
    pub decay_after: Option<usize>,
    /// Decoupled weight decay (AdamW's): each step multiplies every weight matrix (embeddings
    /// too, not the biases) by 1 - lr * this [default: 0].
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Stop after this many validated epochs without a better validation score (0 = never);
    /// the best epoch's weights are the ones saved either way.
    #[arg(long, value_name = "N")]
    pub patience: Option<usize>,
    /// What a batch with a NaN or infinite loss or gradient does: stop the run (naming the
    /// epoch, the batch and the last good checkpoint) or skip the batch [default: stop].
    #[arg(long, value_enum)]
    pub on_nan: Option<OnNan>,
}

impl ScheduleFlags {
    /// The rule these flags give, `preset` filling what they leave out (checked).
    pub fn rule(&self, preset: LrRule) -> Result<LrRule> {
        let schedule = self.lr_schedule.unwrap_or(preset.schedule);
        let factor = match (self.lr_factor, self.lr_schedule) {
            (Some(f), _) => f,
            // A schedule named here without a factor takes that schedule's usual one.
            (None, Some(LrSchedule::Plateau)) if preset.schedule != LrSchedule::Plateau => 0.25,
            (None, Some(LrSchedule::Zaremba)) if preset.schedule != LrSchedule::Zaremba => 0.5,
            (None, _) => preset.factor,
        };
        if !(factor > 0.0 && factor <= 1.0) {
            return Err(Error::msg(format!(
                "--lr-factor is the multiplier of each change, above 0 and at most 1 (got {factor}; \
                 0.25 divides the rate by 4)"
            )));
        }
        Ok(LrRule { schedule, factor, decay_after: self.decay_after.unwrap_or(preset.decay_after) })
    }

    /// `--weight-decay` (0 when not given), checked.
    pub fn weight_decay(&self) -> Result<f64> {
        let wd = self.weight_decay.unwrap_or(0.0);
        check_off_or_positive("--weight-decay", wd)?;
        Ok(wd)
    }

    /// The engine's settings of a new run: `epochs`, `lr` and `clip` (0 = off) as given, the rule
    /// these flags give over `preset`, `--weight-decay`, `--patience` (else `patience`), `--on-nan`.
    pub fn engine(
        &self,
        epochs: usize,
        lr: f64,
        clip: f64,
        preset: LrRule,
        patience: usize,
    ) -> Result<Settings> {
        Ok(Settings {
            epochs,
            lr,
            lr_rule: self.rule(preset)?,
            clip: (clip > 0.0).then_some(clip),
            weight_decay: self.weight_decay()?,
            patience: self.patience.unwrap_or(patience),
            on_nan: self.on_nan(),
        })
    }

    pub fn on_nan(&self) -> OnNan {
        self.on_nan.unwrap_or(OnNan::Stop)
    }

    /// What `--resume` changes of the run's settings: these flags with `--lr` and `--epochs`.
    pub fn overrides(&self, lr: Option<f64>, epochs: Option<usize>) -> Overrides {
        Overrides { lr, epochs, patience: self.patience, on_nan: self.on_nan }
    }

    /// The flags of this group that were given and that a resumed run cannot change (all but
    /// --patience and --on-nan).
    pub fn fixed_given(&self) -> Vec<&'static str> {
        [
            ("--lr-schedule", self.lr_schedule.is_some()),
            ("--lr-factor", self.lr_factor.is_some()),
            ("--decay-after", self.decay_after.is_some()),
            ("--weight-decay", self.weight_decay.is_some()),
        ]
        .into_iter()
        .filter(|(_, given)| *given)
        .map(|(flag, _)| flag)
        .collect()
    }
}

/// `--tensorboard DIR`: TensorBoard event files of the run (given again beside `--resume`, the
/// resumed run's scalars go on from its step).
#[derive(Args, Debug, Clone, Default)]
pub struct TensorboardFlags {
    /// Write TensorBoard event files to DIR (created if needed; view with `tensorboard --logdir
    /// DIR`): each epoch's figures (train/loss, valid/loss, valid/ppl or valid/accuracy, lr,
    /// train/grad_norm, ...) and every --tensorboard-every batches the batch loss and gradient
    /// norm, against the number of batches done.
    #[arg(long, value_name = "DIR")]
    pub tensorboard: Option<PathBuf>,
    /// Batches between two batch scalars (batch/loss, batch/grad_norm) in --tensorboard's files.
    #[arg(long, value_name = "N", default_value_t = 100, requires = "tensorboard")]
    pub tensorboard_every: usize,
}

impl TensorboardFlags {
    /// Errors before anything is written if the flags cannot work: N below 1, DIR a file.
    pub fn check(&self) -> Result<()> {
        let Some(dir) = &self.tensorboard else { return Ok(()) };
        if self.tensorboard_every == 0 {
            return Err(Error::msg(
                "--tensorboard-every must be at least 1 (batches between two batch scalars)",
            ));
        }
        if dir.exists() && !dir.is_dir() {
            return Err(Error::file(
                dir,
                "is a file; --tensorboard expects a directory (created if missing)",
            ));
        }
        Ok(())
    }
}

/// A constant rate (what a subcommand without a preset starts from).
pub const CONSTANT: LrRule = LrRule::CONSTANT;

/// Errors unless `flag`'s `value` is a positive number.
pub fn check_positive(flag: &str, value: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        return Ok(());
    }
    Err(Error::msg(format!("{flag} must be a positive number (got {value})")))
}

/// Errors unless `flag`'s `value` is 0 (off) or a positive number.
pub fn check_off_or_positive(flag: &str, value: f64) -> Result<()> {
    if value.is_finite() && value >= 0.0 {
        return Ok(());
    }
    Err(Error::msg(format!("{flag} must be 0 (off) or a positive number (got {value})")))
}

/// Errors unless `flag`'s probability `p` is in [0, 1).
pub fn check_probability(flag: &str, p: f64) -> Result<()> {
    if (0.0..1.0).contains(&p) {
        return Ok(());
    }
    Err(Error::msg(format!("{flag} must be in [0, 1) (got {p})")))
}
