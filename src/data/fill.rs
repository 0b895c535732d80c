//! Missing values of a CSV series (`--fill`): which fields are missing, and how the gaps are
//! filled or dropped. Without a fill a missing value is an error naming the file and the line.
//!
//! - `linear`: a gap is the straight line between the known values on each side of it, by row
//!   (`1, -, -, 4` -> `1, 2, 3, 4`); a gap at the start or the end has no value on one side and is
//!   an error naming its first line (pass `previous` or `drop` for those).
//! - `previous`: the last known value carried forward (`1, -, 3, -` -> `1, 1, 3, 3`); a gap at the
//!   start is an error naming its first line.
//! - `drop`: the rows are removed; the values left are consecutive steps of the series (the
//!   network sees them evenly spaced) and keep their own dates.

use serde::{Deserialize, Serialize};

/// How missing values are treated (`config.json`'s `data.fill`; absent = refused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Fill {
    /// Straight lines between the known values around each gap.
    Linear,
    /// The last known value carried forward.
    Previous,
    /// The rows are removed.
    Drop,
}

impl Fill {
    /// `"linear"`, `"previous"` or `"drop"`, as in configs and flags.
    pub fn name(self) -> &'static str {
        match self {
            Fill::Linear => "linear",
            Fill::Previous => "previous",
            Fill::Drop => "drop",
        }
    }
}

/// A field that stands for a missing value: empty, `NA`, `N/A`, `NaN` or `null` (any case).
pub fn is_missing(field: &str) -> bool {
    let field = field.trim();
    field.is_empty() || ["na", "n/a", "nan", "null"].iter().any(|m| field.eq_ignore_ascii_case(m))
}

/// `values` (None = missing) with the gaps filled by `fill` (`Drop`: removed). On a gap that
/// cannot be filled, `Err` gives the index of its first value and why.
pub fn fill_gaps(values: &[Option<f64>], fill: Fill) -> Result<Vec<f64>, (usize, String)> {
    if fill == Fill::Drop {
        return Ok(values.iter().flatten().copied().collect());
    }
    let Some(first) = values.iter().position(Option::is_some) else {
        return Err((0, "every value is missing".to_string()));
    };
    if first > 0 {
        return Err((
            0,
            format!(
                "missing value before the first known one: --fill {} needs a known value before it \
                 (--fill drop removes the row)",
                fill.name()
            ),
        ));
    }
    let mut out = Vec::with_capacity(values.len());
    let mut i = 0;
    while i < values.len() {
        if let Some(v) = values[i] {
            out.push(v);
            i += 1;
            continue;
        }
        let before = out[i - 1];
        let end = (i..values.len()).find(|&j| values[j].is_some());
        match (fill, end) {
            (Fill::Previous, _) => out.extend(std::iter::repeat_n(before, end.unwrap_or(values.len()) - i)),
            (Fill::Linear, Some(end)) => {
                let after = values[end].expect("found as known");
                let span = (end - (i - 1)) as f64;
                out.extend((i..end).map(|j| before + (after - before) * (j - (i - 1)) as f64 / span));
            }
            (Fill::Linear, None) => {
                return Err((
                    i,
                    "missing value after the last known one: --fill linear needs a known value on \
                     both sides (--fill previous carries the last one forward, --fill drop removes the row)"
                        .to_string(),
                ))
            }
            (Fill::Drop, _) => unreachable!("handled above"),
        }
        i = end.unwrap_or(values.len());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_filled_each_way() {
        let v = [Some(1.0), None, None, Some(4.0), None];
        assert_eq!(fill_gaps(&v, Fill::Previous).unwrap(), [1.0, 1.0, 1.0, 4.0, 4.0]);
        assert_eq!(fill_gaps(&v, Fill::Drop).unwrap(), [1.0, 4.0]);
        assert_eq!(fill_gaps(&v, Fill::Linear).unwrap_err().0, 4);
        assert_eq!(fill_gaps(&v[..4], Fill::Linear).unwrap(), [1.0, 2.0, 3.0, 4.0]);
        assert_eq!(fill_gaps(&[None, Some(2.0)], Fill::Previous).unwrap_err().0, 0);
        assert!(is_missing(" NA ") && is_missing("nan") && is_missing("") && !is_missing("0"));
    }
}
