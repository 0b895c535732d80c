//! Heat maps: a matrix of values in [0, 1] drawn as grey cells (0 black, 1 white, the book's
//! `Greys_r` for its attention maps, figure 8-26), a label on every row and column, written as a
//! PNG (supersampled, like the curves) and an SVG, both atomically.
//!
//! Rows go down, columns across; the column labels are written under the cells, the row labels
//! left of them. Each cell is `CELL` pixels square, so the image's size follows the matrix.

use super::{register_bundled_font, with_suffix, FONT_FAMILY, PNG_SUPERSAMPLE, TITLE_SIZE};
use crate::error::{Error, Result};
use crate::io::atomic::write_atomic;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// What a heat map shows: `values[row][column]`, each in [0, 1].
#[derive(Debug, Clone, Copy)]
pub struct HeatMap<'a> {
    /// The caption above the map.
    pub title: &'a str,
    /// Under the column labels.
    pub x_label: &'a str,
    /// Left of the row labels, written across.
    pub y_label: &'a str,
    /// One label a column, left to right (as many as each row of `values`).
    pub columns: &'a [String],
    /// One label a row, top to bottom (as many as `values`).
    pub rows: &'a [String],
    /// The shade of each cell, `values[row][column]` in [0, 1] (0 black, 1 white).
    pub values: &'a [Vec<f64>],
}

const CELL: u32 = 28;
const LABEL_SIZE: u32 = 15;
const LEFT: u32 = 110;
const TOP: u32 = 50;
const BOTTOM: u32 = 60;
const RIGHT: u32 = 20;

/// Writes the map as `<stem>.png` and `<stem>.svg`; returns the two paths. Fails (naming the
/// map's title) on an empty map, labels that do not match the values' shape, or a value that
/// is not a number in [0, 1].
pub fn write_heatmap(stem: &Path, map: &HeatMap) -> Result<(PathBuf, PathBuf)> {
    check(map)?;
    register_bundled_font()?;
    let (w, h) = size(map);
    let fail = |format: &str, e: String| {
        Error::msg(format!("heat map '{}': cannot draw the {format} image: {e}", map.title))
    };

    let s = PNG_SUPERSAMPLE;
    let mut pixels = vec![0u8; (w * s * h * s * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (w * s, h * s)).into_drawing_area();
        draw(root, map, s).map_err(|e| fail("PNG", e))?;
    }
    let big =
        image::RgbImage::from_raw(w * s, h * s, pixels).ok_or_else(|| fail("PNG", "bad buffer".into()))?;
    let small = image::imageops::resize(&big, w, h, image::imageops::FilterType::Triangle);
    let mut png = Vec::new();
    image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new(&mut png),
        small.as_raw(),
        w,
        h,
        image::ColorType::Rgb8,
    )
    .map_err(|e| fail("PNG", e.to_string()))?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        draw(root, map, 1).map_err(|e| fail("SVG", e))?;
    }
    let (png_path, svg_path) = (with_suffix(stem, "png"), with_suffix(stem, "svg"));
    write_atomic(&png_path, &png)?;
    write_atomic(&svg_path, svg.as_bytes())?;
    Ok((png_path, svg_path))
}

fn check(map: &HeatMap) -> Result<()> {
    let fail = |m: String| Err(Error::msg(format!("heat map '{}': {m}", map.title)));
    if map.rows.is_empty() || map.columns.is_empty() {
        return fail(format!("nothing to draw ({} rows, {} columns)", map.rows.len(), map.columns.len()));
    }
    if map.values.len() != map.rows.len() {
        return fail(format!("{} row labels for {} rows of values", map.rows.len(), map.values.len()));
    }
    for (i, row) in map.values.iter().enumerate() {
        if row.len() != map.columns.len() {
            return fail(format!("row {} has {} values for {} columns", i + 1, row.len(), map.columns.len()));
        }
        if let Some(v) = row.iter().find(|v| !(0.0..=1.0).contains(*v)) {
            return fail(format!("row {} holds {v}, outside [0, 1]", i + 1));
        }
    }
    Ok(())
}

/// (width, height) in pixels.
fn size(map: &HeatMap) -> (u32, u32) {
    let (columns, rows) = (map.columns.len() as u32, map.rows.len() as u32);
    // Wide enough for the title too (about 11 pixels a character at TITLE_SIZE).
    let title = map.title.chars().count() as u32 * 11 + 2 * RIGHT;
    ((LEFT + columns * CELL + RIGHT).max(title), TOP + rows * CELL + BOTTOM)
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    map: &HeatMap,
    scale: u32,
) -> std::result::Result<(), String> {
    let fail = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let px = |v: u32| (v * scale) as i32;
    root.fill(&WHITE).map_err(fail)?;
    let (w, _) = size(map);
    let title = (FONT_FAMILY, TITLE_SIZE * scale).into_font();
    let label = (FONT_FAMILY, LABEL_SIZE * scale).into_font();
    let centred = |font: FontDesc<'static>| {
        TextStyle::from(font).pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Center,
            plotters::style::text_anchor::VPos::Center,
        ))
    };
    // Row labels end just left of the cells, however long (`<eos>`).
    let right_aligned = |font: FontDesc<'static>| {
        TextStyle::from(font).pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Right,
            plotters::style::text_anchor::VPos::Center,
        ))
    };
    root.draw(&Text::new(map.title.to_string(), (px(w / 2), px(TOP / 2)), centred(title))).map_err(fail)?;
    for (r, row) in map.values.iter().enumerate() {
        let y = TOP + r as u32 * CELL;
        for (c, &v) in row.iter().enumerate() {
            let x = LEFT + c as u32 * CELL;
            let grey = (v * 255.0).round() as u8;
            let rect = Rectangle::new(
                [(px(x), px(y)), (px(x + CELL), px(y + CELL))],
                RGBColor(grey, grey, grey).filled(),
            );
            root.draw(&rect).map_err(fail)?;
        }
        let pos = (px(LEFT - 8), px(y + CELL / 2));
        root.draw(&Text::new(map.rows[r].clone(), pos, right_aligned(label.clone()))).map_err(fail)?;
    }
    let below = TOP + map.rows.len() as u32 * CELL;
    for (c, name) in map.columns.iter().enumerate() {
        let pos = (px(LEFT + c as u32 * CELL + CELL / 2), px(below + CELL / 2));
        root.draw(&Text::new(name.clone(), pos, centred(label.clone()))).map_err(fail)?;
    }
    let x_label = (px(LEFT + map.columns.len() as u32 * CELL / 2), px(below + CELL + BOTTOM / 4));
    root.draw(&Text::new(map.x_label.to_string(), x_label, centred(label.clone()))).map_err(fail)?;
    let y_label = (px(LEFT / 3), px(TOP - CELL / 2));
    root.draw(&Text::new(map.y_label.to_string(), y_label, centred(label))).map_err(fail)?;
    root.present().map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(text: &str) -> Vec<String> {
        text.chars().map(String::from).collect()
    }

    #[test]
    fn writes_both_images_and_refuses_bad_maps() {
        let dir = std::env::temp_dir().join(format!("recur-heatmap-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (columns, rows) = (labels("abc"), labels("xy"));
        let values = vec![vec![0.0, 0.25, 0.75], vec![1.0, 0.5, 0.0]];
        let map = HeatMap {
            title: "attention",
            x_label: "input",
            y_label: "output",
            columns: &columns,
            rows: &rows,
            values: &values,
        };
        let (png, svg) = write_heatmap(&dir.join("map"), &map).unwrap();
        let png_bytes = std::fs::read(&png).unwrap();
        assert_eq!(&png_bytes[..8], b"\x89PNG\r\n\x1a\n");
        let decoded = image::load_from_memory(&png_bytes).unwrap();
        assert_eq!((decoded.width(), decoded.height()), size(&map));
        let svg_text = std::fs::read_to_string(&svg).unwrap();
        assert!(
            svg_text.contains("\nattention\n") && svg_text.contains("\nx\n") && svg_text.contains("\nc\n")
        );
        // A white cell (1.0) and a black one (0.0) are both drawn.
        assert!(svg_text.contains("#FFFFFF") && svg_text.contains("#000000"));

        let bad = vec![vec![0.0, 1.5, 0.0], vec![0.0; 3]];
        let err = write_heatmap(&dir.join("bad"), &HeatMap { values: &bad, ..map }).unwrap_err();
        assert!(err.to_string().contains("outside [0, 1]"), "{err}");
        let short = vec![vec![0.0; 3]];
        assert!(write_heatmap(&dir.join("bad"), &HeatMap { values: &short, ..map }).is_err());
        assert!(write_heatmap(&dir.join("bad"), &HeatMap { rows: &[], values: &[], ..map }).is_err());
        assert!(!dir.join("bad.png").exists(), "nothing written for a bad map");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
