//! The x axis: plotters' linear axis with its own round-number ticks, or with the ticks the
//! caller chose (dates at calendar steps), which plotters' `WithKeyPoints` gives only without a
//! default formatter.

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use std::ops::Range;

pub(super) struct XAxis {
    linear: RangedCoordf64,
    /// The caller's ticks (None: plotters' own).
    ticks: Option<Vec<f64>>,
}

impl XAxis {
    pub(super) fn new(range: Range<f64>, ticks: Option<Vec<f64>>) -> XAxis {
        XAxis { linear: range.into(), ticks }
    }
}

impl Ranged for XAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.linear.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        match &self.ticks {
            Some(ticks) => ticks.clone(),
            None => self.linear.key_points(hint),
        }
    }

    fn range(&self) -> Range<f64> {
        self.linear.range()
    }
}
