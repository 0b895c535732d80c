//! Everything decided before a chart is drawn: the checks on its values ([`Layout::of`] fails on
//! what cannot be drawn), the padded axis ranges, a log axis' 1-2-5 ticks and the corner the
//! legend covers least.

use super::{Chart, Panel, HEIGHT, MARGIN, TITLE_SIZE, WIDTH, X_LABEL_AREA, Y_LABEL_AREA};
use crate::error::{Error, Result};
use plotters::prelude::*;
use std::ops::Range;

/// Everything decided before drawing: axis ranges, log-axis ticks and where the legend goes.
#[derive(Debug)]
pub(super) struct Layout {
    pub(super) x: Range<f64>,
    pub(super) y: Range<f64>,
    /// Labelled ticks of a log-scale y axis (a linear axis uses plotters' own).
    pub(super) log_ticks: Vec<f64>,
    /// Unlabelled grid lines of a log-scale y axis.
    pub(super) log_minor: Vec<f64>,
    pub(super) legend: SeriesLabelPosition,
}

impl Layout {
    pub(super) fn of(panel: &Panel) -> Result<Layout> {
        let chart = &panel.chart;
        validate(chart)?;
        if let Some(mark) = panel.marks.iter().find(|m| !m.x.is_finite()) {
            return Err(Error::msg(format!(
                "chart '{}': mark '{}' is at x = {}; expected a finite number",
                chart.title, mark.label, mark.x
            )));
        }
        let points = || chart.series.iter().flat_map(|s| s.points.iter().copied());
        let marks = panel.marks.iter().map(|m| m.x);
        let (x_min, x_max) = min_max(points().map(|p| p.0).chain(marks));
        let (y_min, y_max) = min_max(points().map(|p| p.1));

        let too_wide = |axis: &str, lo: f64, hi: f64| {
            Error::msg(format!(
                "chart '{}': {axis} values from {lo:e} to {hi:e} span too wide a range to draw",
                chart.title
            ))
        };
        let x = pad_linear(x_min, x_max).ok_or_else(|| too_wide("x", x_min, x_max))?;
        let (y, log_ticks, log_minor) = if chart.log_y {
            let y = pad_log(y_min, y_max).ok_or_else(|| too_wide("y", y_min, y_max))?;
            let (ticks, minor) = log_ticks(y.start, y.end);
            (y, ticks, minor)
        } else {
            let y = pad_linear(y_min, y_max).ok_or_else(|| too_wide("y", y_min, y_max))?;
            (y, Vec::new(), Vec::new())
        };
        let legend = legend_position(chart, panel.marks, &x, &y);
        Ok(Layout { x, y, log_ticks, log_minor, legend })
    }
}

fn validate(chart: &Chart) -> Result<()> {
    let title = chart.title;
    if chart.series.is_empty() {
        return Err(Error::msg(format!("chart '{title}': nothing to plot (no series)")));
    }
    for series in chart.series {
        let name = &series.name;
        if series.points.is_empty() {
            return Err(Error::msg(format!("chart '{title}': series '{name}' has no points")));
        }
        for (i, &(x, y)) in series.points.iter().enumerate() {
            if !x.is_finite() || !y.is_finite() {
                return Err(Error::msg(format!(
                    "chart '{title}': series '{name}' point {i} is not finite (x = {x}, y = {y}); \
                     expected finite numbers"
                )));
            }
            if chart.log_y && y <= 0.0 {
                return Err(Error::msg(format!(
                    "chart '{title}': series '{name}' has y = {y} at x = {x}, but a log-scale y \
                     axis needs values above 0"
                )));
            }
        }
    }
    Ok(())
}

fn min_max(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)))
}

/// A range around `[lo, hi]` with 4% room each side; a single value (or a spread too small to
/// show next to its magnitude) gets a window around it. `None` when the range overflows.
fn pad_linear(lo: f64, hi: f64) -> Option<Range<f64>> {
    let magnitude = lo.abs().max(hi.abs());
    let span = hi - lo;
    let range = if span > magnitude * 1e-9 {
        let pad = span * 0.04;
        (lo - pad)..(hi + pad)
    } else {
        let mid = lo + span / 2.0;
        let pad = (magnitude * 0.1).max(1.0);
        (mid - pad)..(mid + pad)
    };
    finite(range)
}

/// Like [`pad_linear`] but in log space (both ends are above zero, checked by `validate`).
fn pad_log(lo: f64, hi: f64) -> Option<Range<f64>> {
    let (l, h) = (lo.log10(), hi.log10());
    let pad = if h - l > 1e-9 { (h - l) * 0.04 } else { 0.2 };
    // Near the ends of f64 the padding would underflow or overflow: keep the data's own ends.
    let start = Some(10f64.powf(l - pad)).filter(|v| v.is_normal()).unwrap_or(lo);
    let end = Some(10f64.powf(h + pad)).filter(|v| v.is_finite()).unwrap_or(hi);
    finite(start..end).filter(|r| r.start > 0.0 && r.end > r.start)
}

fn finite(range: Range<f64>) -> Option<Range<f64>> {
    let ok = range.start.is_finite() && range.end.is_finite() && (range.end - range.start).is_finite();
    ok.then_some(range)
}

/// Labelled and minor ticks for a log axis over `[lo, hi]`: plain linear ticks within one decade;
/// otherwise the densest of 1 / 1-2-5 / 1..9 per decade that gives at most 10 labels, or every
/// k-th decade on huge ranges.
pub(super) fn log_ticks(lo: f64, hi: f64) -> (Vec<f64>, Vec<f64>) {
    const MAX_LABELS: usize = 10;
    let all: &[f64] = &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
    let in_range = |mantissas: &[f64], decade_step: i32| -> Vec<f64> {
        let first = lo.log10().floor() as i32;
        let last = hi.log10().ceil() as i32;
        let mut out = Vec::new();
        let mut e = first;
        while e <= last {
            for &m in mantissas {
                // Build from the exponent's decimal string so 0.3 prints as 0.3, not 0.30000000004.
                let v: f64 = format!("{m}e{e}").parse().unwrap_or(f64::NAN);
                if v >= lo && v <= hi {
                    out.push(v);
                }
            }
            e += decade_step;
        }
        out
    };

    if hi / lo < 10.0 {
        // Less than a decade: evenly spaced round numbers read better than 1..9 mantissas, which
        // bunch up at the bottom of each decade.
        return (linear_ticks(lo, hi, 6), Vec::new());
    }
    let minor = in_range(all, 1);
    let mut chosen = Vec::new();
    for mantissas in [&[1.0][..], &[1.0, 2.0, 5.0][..], all] {
        let ticks = in_range(mantissas, 1);
        if ticks.len() <= MAX_LABELS {
            chosen = ticks;
        } else {
            break;
        }
    }
    if chosen.is_empty() {
        // More than MAX_LABELS decades: label every k-th decade.
        let decades = (hi.log10() - lo.log10()).ceil().max(1.0) as usize;
        let step = decades.div_ceil(MAX_LABELS).max(1) as i32;
        chosen = in_range(&[1.0], step);
    }
    if chosen.len() < 3 {
        return (linear_ticks(lo, hi, 6), Vec::new());
    }
    let minor = if minor.len() > 60 { Vec::new() } else { minor };
    (chosen, minor)
}

/// About `target` round-numbered ticks (steps of 1, 2 or 5 times a power of ten) inside `[lo, hi]`.
fn linear_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    let raw = (hi - lo) / target.max(1) as f64;
    if raw <= 0.0 || !raw.is_finite() {
        return vec![lo];
    }
    let power = 10f64.powf(raw.log10().floor());
    let step =
        [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * power).find(|s| *s >= raw).unwrap_or(10.0 * power);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// The corner whose legend box would cover the fewest points of the curves (lines sampled between
/// points too), preferring upper right, then upper left, lower right, lower left.
fn legend_position(
    chart: &Chart,
    marks: &[super::Mark],
    x: &Range<f64>,
    y: &Range<f64>,
) -> SeriesLabelPosition {
    let to_unit = |(px, py): (f64, f64)| {
        let u = (px - x.start) / (x.end - x.start);
        let v = if chart.log_y {
            (py.log10() - y.start.log10()) / (y.end.log10() - y.start.log10())
        } else {
            (py - y.start) / (y.end - y.start)
        };
        (u, v)
    };
    // Rough size of the legend box as a fraction of the plotting area.
    let plot_w = f64::from(WIDTH - Y_LABEL_AREA - 2 * MARGIN);
    let plot_h = f64::from(HEIGHT - X_LABEL_AREA - 2 * MARGIN - TITLE_SIZE * 2);
    let longest = chart.series.iter().map(|s| s.name.chars().count()).max().unwrap_or(0);
    let box_w = ((longest as f64 * 8.5 + 50.0) / plot_w).min(1.0);
    let box_h = (((chart.series.len() + marks.len()) as f64 * 20.0 + 20.0) / plot_h).min(1.0);

    let mut samples = Vec::new();
    for series in chart.series {
        let pts: Vec<(f64, f64)> = series.points.iter().copied().map(to_unit).collect();
        samples.push(pts[0]);
        let sub = (2000 / pts.len()).clamp(1, 50);
        for w in pts.windows(2) {
            for k in 1..=sub {
                let t = k as f64 / sub as f64;
                samples.push((w[0].0 + (w[1].0 - w[0].0) * t, w[0].1 + (w[1].1 - w[0].1) * t));
            }
        }
    }
    // A mark is a vertical line across the whole height.
    for mark in marks {
        let u = (mark.x - x.start) / (x.end - x.start);
        samples.extend((0..=100).map(|i| (u, f64::from(i) / 100.0)));
    }
    let corners = [
        (SeriesLabelPosition::UpperRight, true, true),
        (SeriesLabelPosition::UpperLeft, false, true),
        (SeriesLabelPosition::LowerRight, true, false),
        (SeriesLabelPosition::LowerLeft, false, false),
    ];
    let covered = |right: bool, upper: bool| {
        samples
            .iter()
            .filter(|&&(u, v)| {
                let in_x = if right { u >= 1.0 - box_w } else { u <= box_w };
                let in_y = if upper { v >= 1.0 - box_h } else { v <= box_h };
                in_x && in_y
            })
            .count()
    };
    let mut best = (SeriesLabelPosition::UpperRight, usize::MAX);
    for (pos, right, upper) in corners {
        let n = covered(right, upper);
        if n < best.1 {
            best = (pos, n);
        }
    }
    best.0
}
