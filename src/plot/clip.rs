//! A polyline cut to a box, as matplotlib clips a line to its axes: the runs of the line inside
//! the box, each crossing of the border replaced by the point where the segment meets it
//! (Liang-Barsky on each segment). A log-scale axis is clipped in log space, so the cut lies on
//! the straight line drawn.

use std::ops::Range;

/// The parts of `points` inside `x` by `y` (closed ranges), in order. `log_y`: the y values are
/// drawn on a log scale (all above zero).
pub(super) fn clip_polyline(
    points: &[(f64, f64)],
    x: &Range<f64>,
    y: &Range<f64>,
    log_y: bool,
) -> Vec<Vec<(f64, f64)>> {
    let to = |v: f64| if log_y { v.log10() } else { v };
    let from = |v: f64| if log_y { 10f64.powf(v) } else { v };
    let (y_lo, y_hi) = (to(y.start), to(y.end));
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut run: Vec<(f64, f64)> = Vec::new();
    let flush = |run: &mut Vec<(f64, f64)>, runs: &mut Vec<Vec<(f64, f64)>>| {
        if !run.is_empty() {
            runs.push(std::mem::take(run));
        }
    };
    let t: Vec<(f64, f64)> = points.iter().map(|&(px, py)| (px, to(py))).collect();
    if t.len() == 1 {
        let (px, py) = t[0];
        if (x.start..=x.end).contains(&px) && (y_lo..=y_hi).contains(&py) {
            runs.push(vec![(px, from(py))]);
        }
        return runs;
    }
    for pair in t.windows(2) {
        match clip_segment(pair[0], pair[1], (x.start, x.end), (y_lo, y_hi)) {
            Some((a, b)) => {
                let a = (a.0, from(a.1));
                let b = (b.0, from(b.1));
                // A new run where the line re-enters the box (or the segment starts cut).
                if run.last() != Some(&a) {
                    flush(&mut run, &mut runs);
                    run.push(a);
                }
                run.push(b);
            }
            None => flush(&mut run, &mut runs),
        }
    }
    flush(&mut run, &mut runs);
    runs
}

/// The part of the segment `a`-`b` inside the box, if any (Liang-Barsky).
fn clip_segment(
    a: (f64, f64),
    b: (f64, f64),
    (x_lo, x_hi): (f64, f64),
    (y_lo, y_hi): (f64, f64),
) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [(-dx, a.0 - x_lo), (dx, x_hi - a.0), (-dy, a.1 - y_lo), (dy, y_hi - a.1)] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    if t0 > t1 {
        return None;
    }
    let at = |t: f64| {
        if t == 0.0 {
            a
        } else if t == 1.0 {
            b
        } else {
            // Clamped: rounding must not put the cut a hair outside the box.
            ((a.0 + t * dx).clamp(x_lo, x_hi), (a.1 + t * dy).clamp(y_lo, y_hi))
        }
    };
    Some((at(t0), at(t1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_is_kept_whole() {
        let pts = vec![(0.0, 0.0), (1.0, 1.0), (2.0, 0.5)];
        assert_eq!(clip_polyline(&pts, &(0.0..2.0), &(0.0..1.0), false), vec![pts]);
    }

    #[test]
    fn a_spike_out_of_the_box_is_cut_at_the_border() {
        let pts = vec![(0.0, 0.0), (1.0, 4.0), (2.0, 0.0)];
        let runs = clip_polyline(&pts, &(0.0..2.0), &(-1.0..2.0), false);
        assert_eq!(runs, vec![vec![(0.0, 0.0), (0.5, 2.0)], vec![(1.5, 2.0), (2.0, 0.0)]]);
        for run in &runs {
            assert!(run.iter().all(|&(x, y)| (0.0..=2.0).contains(&x) && (-1.0..=2.0).contains(&y)));
        }
    }

    #[test]
    fn outside_points_and_log_axes() {
        assert!(clip_polyline(&[(5.0, 5.0), (6.0, 6.0)], &(0.0..1.0), &(0.0..1.0), false).is_empty());
        assert!(clip_polyline(&[(5.0, 5.0)], &(0.0..1.0), &(0.0..1.0), false).is_empty());
        // 1 -> 1000 on a log axis cut at 100 meets it two thirds of the way along x.
        let runs = clip_polyline(&[(0.0, 1.0), (3.0, 1000.0)], &(0.0..3.0), &(1.0..100.0), true);
        let (x, y) = runs[0][1];
        assert!((x - 2.0).abs() < 1e-9 && (y - 100.0).abs() < 1e-9, "{runs:?}");
    }
}
