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
//!
//! ```text
//! mod.rs     Chart, Series, write_chart; the sizes, fonts and colours
//! layout.rs  what is decided before drawing: checks, axis ranges, log ticks, the legend's corner
//! heatmap.rs HeatMap, write_heatmap: a grey matrix with labelled rows and columns (attention)
//! render.rs  drawing with plotters: PNG (supersampled) and SVG, the mesh, the curves, the legend
//! tests.rs   the files written, the errors, the ticks
//! ```

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
