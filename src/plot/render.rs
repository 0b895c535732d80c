//! Drawing a chart with plotters: the PNG at twice the size scaled down (anti-aliasing), the SVG
//! at 1:1, both through [`draw`]: the mesh with short tick labels, one line per series, the legend.

use super::layout::Layout;
use super::{
    Chart, AXIS_DESC_SIZE, FONT_FAMILY, HEIGHT, LEGEND_SIZE, MARGIN, MARKER_MAX_POINTS, PALETTE,
    PNG_SUPERSAMPLE, TICK_LABEL_SIZE, TITLE_SIZE, WIDTH, X_LABEL_AREA, Y_LABEL_AREA,
};
use crate::error::{Error, Result};
use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::ops::Range;

/// A tick label: up to six significant digits without trailing zeros; scientific notation for
/// very large or very small magnitudes.
pub(super) fn format_tick(v: f64) -> String {
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
pub(super) fn render_png(chart: &Chart, layout: &Layout) -> Result<Vec<u8>> {
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

pub(super) fn render_svg(chart: &Chart, layout: &Layout) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        draw(root, chart, layout, 1).map_err(|e| draw_error(chart, "SVG", e))?;
    }
    Ok(svg)
}

fn draw_error(chart: &Chart, format: &str, message: impl std::fmt::Display) -> Error {
    Error::msg(format!("chart '{}': cannot draw the {format} image: {message}", chart.title))
}

/// Draws the whole chart on `root`, every size multiplied by `scale`; errors come back as text.
fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    chart: &Chart,
    layout: &Layout,
    scale: u32,
) -> crate::Result<()> {
    let fail = |e: DrawingAreaErrorKind<DB::ErrorType>| Error::msg(e.to_string());
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
