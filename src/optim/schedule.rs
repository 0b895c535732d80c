//! Learning-rate rules, applied between epochs.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum LrSchedule {
    /// The same rate every epoch.
    Constant,
    /// Divide by `factor` (4 in the book and PyTorch's example) after an epoch whose validation
    /// perplexity is not better than the best so far.
    Plateau,
    /// Zaremba et al.: `lr0 * decay^max(epoch - decay_after, 0)` (epochs from 1), so the first
    /// `decay_after` epochs run at `lr0`.
    Zaremba,
}

/// The rule with its numbers.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LrRule {
    pub schedule: LrSchedule,
    /// Plateau: the divisor. Zaremba: the per-epoch multiplier.
    pub factor: f64,
    /// Zaremba: epochs at the initial rate.
    pub decay_after: usize,
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
            LrSchedule::Plateau if epoch > 1 && !previous_improved => previous / self.factor,
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
        let rule = LrRule { schedule: LrSchedule::Plateau, factor: 4.0, decay_after: 0 };
        assert_eq!(rule.rate(1, 20.0, 20.0, false), 20.0);
        assert_eq!(rule.rate(2, 20.0, 20.0, true), 20.0);
        assert_eq!(rule.rate(3, 20.0, 20.0, false), 5.0);
    }
}
