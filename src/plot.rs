//! Line charts of training curves (loss, perplexity, accuracy against epoch or step), written as
//! both a PNG (800x500, for a quick look) and an SVG (for papers and zooming).
//!
//! Why it looks like this:
//! - Pure Rust, no system fonts: plotters' `ab_glyph` feature draws text with a font we bundle
//!   (`assets/DejaVuSans.ttf`, embedded with `include_bytes!` and registered once as
//!   `sans-serif`), so charts render the same on a bare server or in a container.
//! - Atomic writes: both images are rendered into memory first and then written with
//!   [`write_atomic`], so a crash never leaves a half-written chart beside a finished run.
//! - Bad input is an [`Error`] naming the chart, never a panic: an empty chart, a series without
//!   points, a NaN or infinity, or a value at or below zero on a log-scale axis.
//! - The PNG is drawn at twice the size and scaled down, because plotters' bitmap backend does
//!   not anti-alias lines; the SVG is drawn at 1:1 and its text uses the viewer's sans-serif.
//! - The legend goes in whichever corner the curves leave free (falling curves: upper right).
//! - Log-scale y axes get their own 1-2-5 ticks, because perplexity falls from hundreds to single
//!   digits and a linear axis would flatten everything after the first few epochs.

use crate::error::{Error, Result};
use crate::io::atomic::write_atomic;
use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// One named curve: (x, y) points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// What a chart shows.
#[derive(Debug, Clone, Copy)]
pub struct Chart<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub log_y: bool,
    pub series: &'a [Series],
}

/// Writes the chart as `<stem>.png` (800x500) and `<stem>.svg`; returns the two paths.
///
/// The extension is appended, not substituted: `runs/ppl.v2` gives `runs/ppl.v2.png`. The folder
/// must exist. Fails (naming the chart title) on an empty chart, a series with no points, a
/// non-finite value, or a y value at or below zero when `log_y` is set.
pub fn write_chart(stem: &Path, chart: &Chart) -> Result<(PathBuf, PathBuf)> {
    let layout = Layout::of(chart)?;
    register_bundled_font()?;

    let png = render_png(chart, &layout)?;
    let svg = render_svg(chart, &layout)?;

    let png_path = with_suffix(stem, "png");
    let svg_path = with_suffix(stem, "svg");
    write_atomic(&png_path, &png)?;
    write_atomic(&svg_path, svg.as_bytes())?;
    Ok((png_path, svg_path))
}

const WIDTH: u32 = 800;
const HEIGHT: u32 = 500;
const FONT_FAMILY: &str = "sans-serif";
const FONT_BYTES: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

const TITLE_SIZE: u32 = 22;
const AXIS_DESC_SIZE: u32 = 16;
const TICK_LABEL_SIZE: u32 = 13;
const LEGEND_SIZE: u32 = 15;
const MARGIN: u32 = 15;
/// The PNG is drawn this many times larger, then scaled down (anti-aliasing).
const PNG_SUPERSAMPLE: u32 = 2;
const X_LABEL_AREA: u32 = 50;
const Y_LABEL_AREA: u32 = 70;
/// Series with at most this many points also get a dot at each point (one point has no line).
const MARKER_MAX_POINTS: usize = 30;

/// Tableau 10: ten well-separated colours that survive printing; series cycle through them.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Registers the bundled font with plotters the first time any chart is drawn.
fn register_bundled_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT_BYTES).is_ok());
    if ok {
        Ok(())
    } else {
        Err(Error::msg("the bundled font assets/DejaVuSans.ttf is not a valid TrueType font"))
    }
}

/// `stem` plus `.ext`, keeping any dots already in the file name.
fn with_suffix(stem: &Path, ext: &str) -> PathBuf {
    let mut name = stem.as_os_str().to_owned();
    name.push(".");
    name.push(ext);
    PathBuf::from(name)
}

/// Everything decided before drawing: axis ranges, log-axis ticks and where the legend goes.
#[derive(Debug)]
struct Layout {
    x: Range<f64>,
    y: Range<f64>,
    /// Labelled ticks of a log-scale y axis (a linear axis uses plotters' own).
    log_ticks: Vec<f64>,
    /// Unlabelled grid lines of a log-scale y axis.
    log_minor: Vec<f64>,
    legend: SeriesLabelPosition,
}

impl Layout {
    fn of(chart: &Chart) -> Result<Layout> {
        validate(chart)?;
        let points = || chart.series.iter().flat_map(|s| s.points.iter().copied());
        let (x_min, x_max) = min_max(points().map(|p| p.0));
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
        let legend = legend_position(chart, &x, &y);
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
fn log_ticks(lo: f64, hi: f64) -> (Vec<f64>, Vec<f64>) {
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
fn legend_position(chart: &Chart, x: &Range<f64>, y: &Range<f64>) -> SeriesLabelPosition {
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
    let box_h = ((chart.series.len() as f64 * 20.0 + 20.0) / plot_h).min(1.0);

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

/// A tick label: up to six significant digits without trailing zeros; scientific notation for
/// very large or very small magnitudes.
fn format_tick(v: f64) -> String {
    let a = v.abs();
    // Tick positions are computed by repeated addition, so "zero" can arrive as 1.1e-16.
    if a < 1e-12 {
        return "0".to_string();
    }
    if !(1e-3..1e6).contains(&a) {
        let s = format!("{v:.3e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
        return format!("{mantissa}e{exp}");
    }
    let decimals = (5 - a.log10().floor() as i32).clamp(0, 9) as usize;
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.') } else { &s };
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// Draws at `PNG_SUPERSAMPLE` times the size and scales down: plotters' bitmap backend does not
/// anti-alias lines, and the downscale smooths them (and the text) for free.
fn render_png(chart: &Chart, layout: &Layout) -> Result<Vec<u8>> {
    let (w, h) = (WIDTH * PNG_SUPERSAMPLE, HEIGHT * PNG_SUPERSAMPLE);
    let mut pixels = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (w, h)).into_drawing_area();
        draw(root, chart, layout, PNG_SUPERSAMPLE).map_err(|e| draw_error(chart, "PNG", e))?;
    }
    let big = image::RgbImage::from_raw(w, h, pixels)
        .ok_or_else(|| draw_error(chart, "PNG", "pixel buffer has the wrong size".to_string()))?;
    let small = image::imageops::resize(&big, WIDTH, HEIGHT, image::imageops::FilterType::Triangle);
    let mut png = Vec::new();
    image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new(&mut png),
        small.as_raw(),
        WIDTH,
        HEIGHT,
        image::ColorType::Rgb8,
    )
    .map_err(|e| draw_error(chart, "PNG", e.to_string()))?;
    Ok(png)
}

fn render_svg(chart: &Chart, layout: &Layout) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        draw(root, chart, layout, 1).map_err(|e| draw_error(chart, "SVG", e))?;
    }
    Ok(svg)
}

fn draw_error(chart: &Chart, format: &str, message: String) -> Error {
    Error::msg(format!("chart '{}': cannot draw the {format} image: {message}", chart.title))
}

/// Draws the whole chart on `root`, every size multiplied by `scale`; errors come back as text.
fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    chart: &Chart,
    layout: &Layout,
    scale: u32,
) -> std::result::Result<(), String> {
    let fail = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(fail)?;
    let mut builder = ChartBuilder::on(&root);
    builder
        .caption(chart.title, (FONT_FAMILY, TITLE_SIZE * scale))
        .margin(MARGIN * scale)
        .x_label_area_size(X_LABEL_AREA * scale)
        .y_label_area_size(Y_LABEL_AREA * scale);
    if chart.log_y {
        let y = layout
            .y
            .clone()
            .log_scale()
            .with_key_points(layout.log_ticks.clone())
            .with_light_points(layout.log_minor.clone());
        let ctx = builder.build_cartesian_2d(layout.x.clone(), y).map_err(fail)?;
        draw_curves(ctx, chart, layout, scale).map_err(fail)?;
    } else {
        let ctx = builder.build_cartesian_2d(layout.x.clone(), layout.y.clone()).map_err(fail)?;
        draw_curves(ctx, chart, layout, scale).map_err(fail)?;
    }
    root.present().map_err(fail)
}

/// Grid, axis labels, one line per series and the legend, whatever kind of y axis `ctx` has.
fn draw_curves<'a, DB, Y>(
    mut ctx: ChartContext<'a, DB, Cartesian2d<<Range<f64> as AsRangedCoord>::CoordDescType, Y>>,
    chart: &Chart,
    layout: &Layout,
    scale: u32,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let tick_font = (FONT_FAMILY, TICK_LABEL_SIZE * scale).into_font().color(&BLACK.mix(0.8));
    ctx.configure_mesh()
        .x_desc(chart.x_label)
        .y_desc(chart.y_label)
        .axis_desc_style((FONT_FAMILY, AXIS_DESC_SIZE * scale))
        .label_style(tick_font)
        .x_label_formatter(&|v| format_tick(*v))
        .y_label_formatter(&|v| format_tick(*v))
        .x_max_light_lines(4)
        .set_all_tick_mark_size(4 * scale)
        .bold_line_style(BLACK.mix(0.12).stroke_width(scale))
        .light_line_style(BLACK.mix(0.04).stroke_width(scale))
        .axis_style(BLACK.mix(0.6).stroke_width(scale))
        .draw()?;

    for (i, series) in chart.series.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let style = colour.stroke_width(2 * scale);
        let marker = if series.points.len() <= MARKER_MAX_POINTS { 3 * scale } else { 0 };
        ctx.draw_series(LineSeries::new(series.points.iter().copied(), style.filled()).point_size(marker))?
            .label(series.name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24 * scale as i32, y)], style));
    }

    ctx.configure_series_labels()
        .position(layout.legend.clone())
        .label_font((FONT_FAMILY, LEGEND_SIZE * scale))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4).stroke_width(scale))
        .margin(10 * scale)
        .legend_area_size(30 * scale)
        .draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh, empty folder under the system temp dir, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> TempDir {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let dir =
                std::env::temp_dir().join(format!("recur-plot-test-{}-{nanos}-{n}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("create temp dir");
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn perplexity_series() -> Vec<Series> {
        let train = (1..=100)
            .map(|e| {
                let t = (e - 1) as f64 / 99.0;
                (e as f64, 6.0 * (400.0f64 / 6.0).powf((1.0 - t).powi(3)))
            })
            .collect();
        let valid = (1..=100)
            .map(|e| {
                let t = (e - 1) as f64 / 99.0;
                (e as f64, 9.0 * (380.0f64 / 9.0).powf((1.0 - t).powi(3)) + 2.0 * t)
            })
            .collect();
        vec![
            Series { name: "train".to_string(), points: train },
            Series { name: "valid".to_string(), points: valid },
        ]
    }

    fn chart<'a>(title: &'a str, log_y: bool, series: &'a [Series]) -> Chart<'a> {
        Chart { title, x_label: "epoch", y_label: "perplexity", log_y, series }
    }

    fn check_files(png: &Path, svg: &Path) {
        let png_bytes = std::fs::read(png).expect("PNG written");
        assert!(png_bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]));
        // IHDR: width and height, big-endian, right after the signature and chunk header.
        let be = |at: usize| u32::from_be_bytes(png_bytes[at..at + 4].try_into().unwrap());
        assert_eq!((be(16), be(20)), (WIDTH, HEIGHT));
        let svg_text = std::fs::read_to_string(svg).expect("SVG written");
        assert!(svg_text.contains("<svg"));
    }

    #[test]
    fn writes_png_and_svg() {
        let dir = TempDir::new();
        let series = perplexity_series();
        for log_y in [true, false] {
            let stem = dir.0.join(format!("ppl-{log_y}"));
            let (png, svg) = write_chart(&stem, &chart("Perplexity", log_y, &series)).unwrap();
            assert_eq!(png, dir.0.join(format!("ppl-{log_y}.png")));
            assert_eq!(svg, dir.0.join(format!("ppl-{log_y}.svg")));
            check_files(&png, &svg);
            let svg_text = std::fs::read_to_string(&svg).unwrap();
            assert!(svg_text.contains("Perplexity") && svg_text.contains("valid"));
        }
    }

    #[test]
    fn markup_in_names_is_escaped_in_svg() {
        let dir = TempDir::new();
        let series = vec![Series { name: "a<b & c".to_string(), points: vec![(0.0, 1.0), (1.0, 2.0)] }];
        let (png, svg) = write_chart(&dir.0.join("esc"), &chart("x < y", false, &series)).unwrap();
        check_files(&png, &svg);
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(text.contains("x &lt; y") && text.contains("a&lt;b &amp; c"), "{text}");
    }

    #[test]
    fn extension_is_appended_not_substituted() {
        let dir = TempDir::new();
        let series = perplexity_series();
        let (png, svg) = write_chart(&dir.0.join("run.v2"), &chart("t", true, &series)).unwrap();
        assert_eq!(png.file_name().unwrap(), "run.v2.png");
        assert_eq!(svg.file_name().unwrap(), "run.v2.svg");
        check_files(&png, &svg);
    }

    #[test]
    fn single_point_series_draws() {
        let dir = TempDir::new();
        for (log_y, y) in [(true, 5.0), (false, 0.0), (false, -3.0)] {
            let series = vec![Series { name: "only".to_string(), points: vec![(1.0, y)] }];
            let stem = dir.0.join(format!("one-{log_y}-{y}"));
            let (png, svg) = write_chart(&stem, &chart("One point", log_y, &series)).unwrap();
            check_files(&png, &svg);
        }
    }

    #[test]
    fn empty_chart_is_an_error() {
        let dir = TempDir::new();
        let err = write_chart(&dir.0.join("x"), &chart("Empty one", false, &[])).unwrap_err();
        assert!(err.message().contains("Empty one"), "{err}");
        let series = vec![Series { name: "valid".to_string(), points: vec![] }];
        let err = write_chart(&dir.0.join("x"), &chart("No points", false, &series)).unwrap_err();
        assert!(err.message().contains("No points") && err.message().contains("valid"), "{err}");
        assert!(!dir.0.join("x.png").exists());
    }

    #[test]
    fn non_finite_values_are_an_error() {
        let dir = TempDir::new();
        for bad in [(1.0, f64::NAN), (f64::INFINITY, 2.0), (1.0, f64::NEG_INFINITY)] {
            let series = vec![Series { name: "train".to_string(), points: vec![(0.0, 1.0), bad] }];
            let err = write_chart(&dir.0.join("x"), &chart("Loss curve", false, &series)).unwrap_err();
            assert!(err.message().contains("Loss curve"), "{err}");
            assert!(err.message().contains("not finite"), "{err}");
        }
        assert!(!dir.0.join("x.png").exists() && !dir.0.join("x.svg").exists());
    }

    #[test]
    fn log_axis_rejects_values_at_or_below_zero() {
        let dir = TempDir::new();
        let series = vec![Series { name: "train".to_string(), points: vec![(0.0, 3.0), (1.0, 0.0)] }];
        let err = write_chart(&dir.0.join("x"), &chart("Log chart", true, &series)).unwrap_err();
        assert!(err.message().contains("Log chart") && err.message().contains("log-scale"));
    }

    #[test]
    fn log_ticks_are_round_numbers() {
        let (ticks, minor) = log_ticks(4.0, 450.0);
        assert_eq!(ticks, vec![5.0, 10.0, 20.0, 50.0, 100.0, 200.0]);
        assert!(minor.contains(&300.0));
        let (ticks, _) = log_ticks(6.0, 70.0);
        assert_eq!(ticks, vec![10.0, 20.0, 50.0]);
        let (ticks, _) = log_ticks(78.0, 195.0);
        assert_eq!(ticks, vec![80.0, 100.0, 120.0, 140.0, 160.0, 180.0]);
        let (ticks, _) = log_ticks(1e-3, 1e30);
        assert!(ticks.len() <= 10 && ticks.len() >= 3, "{ticks:?}");
        let (ticks, _) = log_ticks(5.1, 5.9);
        assert!(ticks.len() >= 3 && ticks.iter().all(|t| (5.1..=5.9).contains(t)), "{ticks:?}");
    }

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(format_tick(0.30000000000000004), "0.3");
        assert_eq!(format_tick(100.0), "100");
        assert_eq!(format_tick(-2.5), "-2.5");
        assert_eq!(format_tick(0.0), "0");
        assert_eq!(format_tick(1e-5), "1e-5");
        assert_eq!(format_tick(2.5e7), "2.5e7");
    }
}
