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
//! - Lines never leave the plot frame: every curve is clipped to the axes' ranges and drawn a
//!   segment at a time, because plotters widens a polyline with mitred joins whose spikes, at
//!   the sharp turns of a long noisy series, reach over the title and the tick labels.
//! - A figure may stack panels (the whole series above, its last part zoomed below), label the x
//!   ticks itself (dates) and mark x positions with a dashed line and a legend entry (the saved
//!   epoch, where the test part starts).
//!
//! ```text
//! mod.rs     Chart, Series, Mark, Panel, write_chart, write_panels; the sizes, fonts and colours
//! layout.rs  what is decided before drawing: checks, axis ranges, log ticks, the legend's corner
//! axis.rs    the x axis: plotters' round-number ticks or the caller's (dates)
//! clip.rs    a polyline cut to a box (the parts inside, the crossings interpolated)
//! heatmap.rs HeatMap, write_heatmap: a grey matrix with labelled rows and columns (attention)
//! render.rs  drawing with plotters: PNG (supersampled) and SVG, the mesh, the curves, the legend
//! tests.rs   the files written, the errors, the ticks, the frame
//! ```

mod axis;
mod clip;
mod heatmap;
mod layout;
mod render;
#[cfg(test)]
mod tests;

use crate::error::{Error, Result};
use crate::io::atomic::write_atomic;
pub use heatmap::{write_heatmap, HeatMap};
use layout::Layout;
use plotters::prelude::*;
use render::{render_png, render_svg};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// One named curve: (x, y) points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The legend entry.
    pub name: String,
    /// The (x, y) points, drawn joined in this order.
    pub points: Vec<(f64, f64)>,
}

/// What a chart shows.
#[derive(Debug, Clone, Copy)]
pub struct Chart<'a> {
    /// The caption above the plot.
    pub title: &'a str,
    /// The x axis's label.
    pub x_label: &'a str,
    /// The y axis's label.
    pub y_label: &'a str,
    /// A logarithmic y axis (every y must then be above zero).
    pub log_y: bool,
    /// The curves, at least one, each with points.
    pub series: &'a [Series],
}

/// A vertical dashed line at `x` across the plot, with a legend entry (`saved: epoch 12`).
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// Where the line stands, in x units.
    pub x: f64,
    /// Its legend entry.
    pub label: String,
}

/// One chart of a figure, with what some charts add: x ticks labelled by the caller (`(x,
/// label)`, e.g. dates; empty: round numbers) and vertical marks.
#[derive(Debug, Clone, Copy)]
pub struct Panel<'a> {
    /// The chart itself.
    pub chart: Chart<'a>,
    /// (x, label) ticks for the x axis; empty: round numbers.
    pub x_ticks: &'a [(f64, String)],
    /// Vertical marks drawn across the plot.
    pub marks: &'a [Mark],
}

impl<'a> Panel<'a> {
    /// The chart alone: numeric ticks, no marks.
    pub fn plain(chart: Chart<'a>) -> Panel<'a> {
        Panel { chart, x_ticks: &[], marks: &[] }
    }
}

/// Whole-number ticks for an axis of epochs 1..=`last`: every epoch, or every 2nd, 5th, 10th,
/// ... so that at most about ten are labelled (an epoch axis never shows 1.5).
pub fn epoch_ticks(last: usize) -> Vec<(f64, String)> {
    let step =
        [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000].into_iter().find(|s| last / s <= 10).unwrap_or(1000);
    let first = if step == 1 { 1 } else { step };
    let mut ticks: Vec<(f64, String)> =
        (first..=last).step_by(step).map(|e| (e as f64, e.to_string())).collect();
    if step > 1 {
        ticks.insert(0, (1.0, "1".into()));
    }
    ticks
}

/// Writes the chart as `<stem>.png` (800x500) and `<stem>.svg`; returns the two paths.
///
/// The extension is appended, not substituted: `runs/ppl.v2` gives `runs/ppl.v2.png`. The folder
/// must exist. Fails (naming the chart title) on an empty chart, a series with no points, a
/// non-finite value, or a y value at or below zero when `log_y` is set.
pub fn write_chart(stem: &Path, chart: &Chart) -> Result<(PathBuf, PathBuf)> {
    write_panels(stem, &[Panel::plain(*chart)])
}

/// Writes the panels stacked top to bottom in one figure (800 wide; 500 high for one panel,
/// [`PANEL_HEIGHT`] a panel for more) as `<stem>.png` and `<stem>.svg`, as [`write_chart`] does.
pub fn write_panels(stem: &Path, panels: &[Panel]) -> Result<(PathBuf, PathBuf)> {
    if panels.is_empty() {
        return Err(Error::msg(format!("figure {}: no panels to draw", stem.display())));
    }
    let layouts = panels.iter().map(Layout::of).collect::<Result<Vec<_>>>()?;
    register_bundled_font()?;

    let (png, _) = render_png(panels, &layouts)?;
    let (svg, _) = render_svg(panels, &layouts)?;

    let png_path = with_suffix(stem, "png");
    let svg_path = with_suffix(stem, "svg");
    write_atomic(&png_path, &png)?;
    write_atomic(&svg_path, svg.as_bytes())?;
    Ok((png_path, svg_path))
}

const WIDTH: u32 = 800;
const HEIGHT: u32 = 500;
/// The height of each panel of a figure of several.
pub const PANEL_HEIGHT: u32 = 420;
const FONT_FAMILY: &str = "sans-serif";
const FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

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

/// Series with more points than this are drawn 1 px wide (2 px otherwise).
const THIN_LINE_POINTS: usize = 500;
/// Colours of the vertical marks: dark grey, then purple and olive (apart from the first series').
const MARK_COLOURS: [RGBColor; 3] = [RGBColor(64, 64, 64), RGBColor(148, 103, 189), RGBColor(188, 189, 34)];

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

/// The figure's height for `panels` panels.
fn figure_height(panels: usize) -> u32 {
    if panels <= 1 {
        HEIGHT
    } else {
        PANEL_HEIGHT * panels as u32
    }
}

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
