//! Learning-rate rules, applied between epochs.

use serde::{Deserialize, Serialize};

/// How the learning rate changes between epochs (a config's `"lr_rule"`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum LrSchedule {
    /// The same rate every epoch.
    Constant,
    /// Multiply by `factor` (0.25 in the book and PyTorch's example: the rate divided by 4) after
    /// an epoch whose validation score is not better than the best so far (Keras'
    /// `ReduceLROnPlateau(factor, patience=0)`).
    Plateau,
    /// Zaremba et al.: `lr0 * decay^max(epoch - decay_after, 0)` (epochs from 1), so the first
    /// `decay_after` epochs run at `lr0`.
    Zaremba,
}

/// The rule with its numbers.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "SavedLrRule")]
pub struct LrRule {
    /// Which rule changes the rate.
    pub schedule: LrSchedule,
    /// The multiplier of a change, for both rules (as Keras' `factor` and PyTorch's `gamma`):
    /// 0.25 divides the rate by 4.
    pub factor: f64,
    /// Zaremba: epochs at the initial rate.
    pub decay_after: usize,
}

/// An `LrRule` as `config.json` holds it. Runs written before 2026-12-06 saved a plateau rule's
/// factor as a divisor (4); a plateau factor above 1 is read as that divisor, so those runs
/// resume with the rule they were trained with.
#[derive(Deserialize)]
struct SavedLrRule {
    schedule: LrSchedule,
    factor: f64,
    decay_after: usize,
}

impl From<SavedLrRule> for LrRule {
    fn from(saved: SavedLrRule) -> LrRule {
        let factor = match saved.schedule {
            LrSchedule::Plateau if saved.factor > 1.0 => 1.0 / saved.factor,
            _ => saved.factor,
        };
        LrRule { schedule: saved.schedule, factor, decay_after: saved.decay_after }
    }
}

impl LrRule {
    /// The same rate every epoch.
    pub const CONSTANT: LrRule = LrRule { schedule: LrSchedule::Constant, factor: 1.0, decay_after: 0 };

    /// [`LrRule::CONSTANT`]: the rule of runs recorded before one could be chosen (a serde default).
    pub fn constant() -> LrRule {
        Self::CONSTANT
    }

    /// The rate for `epoch` (from 1), given the initial rate, the rate of the epoch before and
    /// whether that epoch improved the validation score.
    pub fn rate(&self, epoch: usize, lr0: f64, previous: f64, previous_improved: bool) -> f64 {
        match self.schedule {
            LrSchedule::Constant => lr0,
            LrSchedule::Plateau if epoch > 1 && !previous_improved => previous * self.factor,
            LrSchedule::Plateau => previous,
            LrSchedule::Zaremba => lr0 * self.factor.powi(epoch.saturating_sub(self.decay_after) as i32),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zaremba_small_halves_from_epoch_five() {
        let rule = LrRule { schedule: LrSchedule::Zaremba, factor: 0.5, decay_after: 4 };
        let rates: Vec<f64> = (1..=7).map(|e| rule.rate(e, 20.0, 0.0, true)).collect();
        assert_eq!(rates, [20.0, 20.0, 20.0, 20.0, 10.0, 5.0, 2.5]);
    }

    #[test]
    fn plateau_divides_only_after_an_epoch_without_improvement() {
        let rule = LrRule { schedule: LrSchedule::Plateau, factor: 0.25, decay_after: 0 };
        assert_eq!(rule.rate(1, 20.0, 20.0, false), 20.0);
        assert_eq!(rule.rate(2, 20.0, 20.0, true), 20.0);
        assert_eq!(rule.rate(3, 20.0, 20.0, false), 5.0);
    }

    #[test]
    fn an_old_plateau_divisor_is_read_as_its_multiplier() {
        let old: LrRule =
            serde_json::from_str(r#"{"schedule":"plateau","factor":4.0,"decay_after":0}"#).unwrap();
        assert_eq!(old.factor, 0.25);
        let new: LrRule =
            serde_json::from_str(r#"{"schedule":"plateau","factor":0.5,"decay_after":0}"#).unwrap();
        assert_eq!(new.factor, 0.5);
        let zaremba: LrRule =
            serde_json::from_str(r#"{"schedule":"zaremba","factor":0.5,"decay_after":4}"#).unwrap();
        assert_eq!(zaremba.factor, 0.5);
        let round_trip: LrRule = serde_json::from_str(&serde_json::to_string(&old).unwrap()).unwrap();
        assert_eq!(round_trip, old);
    }
}
