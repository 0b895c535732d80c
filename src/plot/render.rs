//! Drawing a figure with plotters: the PNG at twice the size scaled down (anti-aliasing), the SVG
//! at 1:1, both through [`draw`]: per panel the mesh with short tick labels, one clipped line per
//! series, the dashed marks, the legend.

use super::axis::XAxis;
use super::clip::clip_polyline;
use super::layout::Layout;
use super::{
    figure_height, Panel, AXIS_DESC_SIZE, FONT_FAMILY, LEGEND_SIZE, MARGIN, MARKER_MAX_POINTS, MARK_COLOURS,
    PALETTE, PNG_SUPERSAMPLE, THIN_LINE_POINTS, TICK_LABEL_SIZE, TITLE_SIZE, WIDTH, X_LABEL_AREA,
    Y_LABEL_AREA,
};
use crate::error::{Error, Result};
use plotters::coord::ranged1d::{Ranged, ValueFormatter};
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

/// Where a panel's plotting area lies in the image, in pixels (x to the right, y down).
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Frame {
    pub(super) x: Range<i32>,
    pub(super) y: Range<i32>,
}

/// Draws at `PNG_SUPERSAMPLE` times the size and scales down: plotters' bitmap backend does not
/// anti-alias lines, and the downscale smooths them (and the text) for free. Returns the PNG and
/// each panel's frame.
pub(super) fn render_png(panels: &[Panel], layouts: &[Layout]) -> Result<(Vec<u8>, Vec<Frame>)> {
    let height = figure_height(panels.len());
    let (w, h) = (WIDTH * PNG_SUPERSAMPLE, height * PNG_SUPERSAMPLE);
    let mut pixels = vec![0u8; (w * h * 3) as usize];
    let frames = {
        let root = BitMapBackend::with_buffer(&mut pixels, (w, h)).into_drawing_area();
        draw(root, panels, layouts, PNG_SUPERSAMPLE).map_err(|e| draw_error(panels, "PNG", e))?
    };
    let big = image::RgbImage::from_raw(w, h, pixels)
        .ok_or_else(|| draw_error(panels, "PNG", "pixel buffer has the wrong size".to_string()))?;
    let small = image::imageops::resize(&big, WIDTH, height, image::imageops::FilterType::Triangle);
    let mut png = Vec::new();
    image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new(&mut png),
        small.as_raw(),
        WIDTH,
        height,
        image::ColorType::Rgb8,
    )
    .map_err(|e| draw_error(panels, "PNG", e.to_string()))?;
    Ok((png, frames))
}

/// The SVG at 1:1 and each panel's frame.
pub(super) fn render_svg(panels: &[Panel], layouts: &[Layout]) -> Result<(String, Vec<Frame>)> {
    let mut svg = String::new();
    let frames = {
        let root =
            SVGBackend::with_string(&mut svg, (WIDTH, figure_height(panels.len()))).into_drawing_area();
        draw(root, panels, layouts, 1).map_err(|e| draw_error(panels, "SVG", e))?
    };
    Ok((svg, frames))
}

fn draw_error(panels: &[Panel], format: &str, message: impl std::fmt::Display) -> Error {
    let title = panels.first().map_or("", |p| p.chart.title);
    Error::msg(format!("chart '{title}': cannot draw the {format} image: {message}"))
}

/// Draws the panels top to bottom on `root`, every size multiplied by `scale`; returns each
/// panel's frame at 1:1. Errors come back as text.
fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    panels: &[Panel],
    layouts: &[Layout],
    scale: u32,
) -> crate::Result<Vec<Frame>> {
    let fail = |e: DrawingAreaErrorKind<DB::ErrorType>| Error::msg(e.to_string());
    root.fill(&WHITE).map_err(fail)?;
    let areas = root.split_evenly((panels.len(), 1));
    let mut frames = Vec::new();
    for ((area, panel), layout) in areas.into_iter().zip(panels).zip(layouts) {
        let frame = draw_panel(area, panel, layout, scale).map_err(fail)?;
        let s = scale as i32;
        frames.push(Frame { x: frame.x.start / s..frame.x.end / s, y: frame.y.start / s..frame.y.end / s });
    }
    root.present().map_err(fail)?;
    Ok(frames)
}

type DrawResult<T, DB> = std::result::Result<T, DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// One panel: the axes its layout chose (log or linear y, numeric or caller-labelled x).
fn draw_panel<DB: DrawingBackend>(
    area: DrawingArea<DB, Shift>,
    panel: &Panel,
    layout: &Layout,
    scale: u32,
) -> DrawResult<Frame, DB> {
    let chart = &panel.chart;
    let mut builder = ChartBuilder::on(&area);
    builder
        .caption(chart.title, (FONT_FAMILY, TITLE_SIZE * scale))
        .margin(MARGIN * scale)
        .x_label_area_size(X_LABEL_AREA * scale)
        .y_label_area_size(Y_LABEL_AREA * scale);
    let x = &layout.x;
    let ticks: Vec<f64> =
        panel.x_ticks.iter().map(|t| t.0).filter(|t| (x.start..=x.end).contains(t)).collect();
    let x = XAxis::new(x.clone(), (!ticks.is_empty()).then_some(ticks));
    if chart.log_y {
        let y = layout
            .y
            .clone()
            .log_scale()
            .with_key_points(layout.log_ticks.clone())
            .with_light_points(layout.log_minor.clone());
        draw_curves(builder.build_cartesian_2d(x, y)?, panel, layout, scale)
    } else {
        draw_curves(builder.build_cartesian_2d(x, layout.y.clone())?, panel, layout, scale)
    }
}

/// The label of a caller's x tick at `v` (the nearest one), else the number.
fn x_tick_label(panel: &Panel, v: f64) -> String {
    let nearest = panel.x_ticks.iter().min_by(|a, b| (a.0 - v).abs().total_cmp(&(b.0 - v).abs()));
    match nearest {
        Some((at, label)) if (at - v).abs() <= 1e-9 * at.abs().max(1.0) => label.clone(),
        _ => format_tick(v),
    }
}

/// Grid, axis labels, the clipped curves, the marks and the legend, whatever kind of axes `ctx`
/// has.
fn draw_curves<'a, DB, X, Y>(
    mut ctx: ChartContext<'a, DB, Cartesian2d<X, Y>>,
    panel: &Panel,
    layout: &Layout,
    scale: u32,
) -> DrawResult<Frame, DB>
where
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let chart = &panel.chart;
    let tick_font = (FONT_FAMILY, TICK_LABEL_SIZE * scale).into_font().color(&BLACK.mix(0.8));
    ctx.configure_mesh()
        .x_desc(chart.x_label)
        .y_desc(chart.y_label)
        .axis_desc_style((FONT_FAMILY, AXIS_DESC_SIZE * scale))
        .label_style(tick_font)
        .x_label_formatter(&|v| x_tick_label(panel, *v))
        .y_label_formatter(&|v| format_tick(*v))
        .x_max_light_lines(4)
        .set_all_tick_mark_size(4 * scale)
        .bold_line_style(BLACK.mix(0.12).stroke_width(scale))
        .light_line_style(BLACK.mix(0.04).stroke_width(scale))
        .axis_style(BLACK.mix(0.6).stroke_width(scale))
        .draw()?;

    let (x, y) = (&layout.x, &layout.y);
    for (i, series) in chart.series.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        // A long series drawn 2 px wide is a solid band: thinner lines show its shape.
        let width = if series.points.len() > THIN_LINE_POINTS { scale } else { 2 * scale };
        let style = colour.stroke_width(width);
        let runs = clip_polyline(&series.points, x, y, chart.log_y);
        // Each segment its own path: plotters' joins of a wide polyline spike at sharp turns.
        let segments = runs.iter().flat_map(|run| run.windows(2).map(|w| vec![w[0], w[1]]));
        ctx.draw_series(segments.map(|seg| PathElement::new(seg, style)))?
            .label(series.name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24 * scale as i32, y)], style));
        if series.points.len() <= MARKER_MAX_POINTS {
            let dots = runs.iter().flatten().copied();
            let kept = series.points.iter().copied().filter(|p| dots.clone().any(|d| d == *p));
            ctx.draw_series(kept.map(|p| Circle::new(p, 3 * scale, style.filled())))?;
        }
    }
    for (i, mark) in panel.marks.iter().enumerate() {
        let colour = MARK_COLOURS[i % MARK_COLOURS.len()];
        let style = colour.stroke_width(2 * scale);
        let (dash, gap) = (6 * scale, 4 * scale);
        let ends = [(mark.x, y.start), (mark.x, y.end)];
        ctx.draw_series(DashedLineSeries::new(ends, dash, gap, style))?.label(mark.label.as_str()).legend(
            move |(x, y)| {
                let d = dash as i32;
                EmptyElement::at((x, y))
                    + PathElement::new(vec![(0, 0), (d, 0)], style)
                    + PathElement::new(vec![(d + gap as i32, 0), (2 * d + gap as i32, 0)], style)
            },
        );
    }

    ctx.configure_series_labels()
        .position(layout.legend.clone())
        .label_font((FONT_FAMILY, LEGEND_SIZE * scale))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4).stroke_width(scale))
        .margin(10 * scale)
        .legend_area_size(30 * scale)
        .draw()?;
    let (px, py) = ctx.plotting_area().get_pixel_range();
    Ok(Frame { x: px, y: py })
}
