//! The charts written (PNG and SVG, their names and sizes), the errors on what cannot be drawn,
//! the log-axis ticks and the tick labels.

use super::layout::log_ticks;
use super::render::format_tick;
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
        let dir = std::env::temp_dir().join(format!("recur-plot-test-{}-{nanos}-{n}", std::process::id()));
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

/// A long noisy series whose sharp turns made plotters' mitred joins spike out of the frame.
fn zigzag() -> Vec<Series> {
    let mut rng = crate::tensor::Rng::new(7);
    let points = (0..3650).map(|i| (i as f64, 10.0 + 8.0 * (rng.uniform() - 0.5))).collect();
    vec![Series { name: "truth".to_string(), points }]
}

/// The (x, y) pixel coordinates of every polyline of the first series' colour in an SVG.
fn svg_line_points(svg: &str) -> Vec<(i32, i32)> {
    let mut out = Vec::new();
    for part in svg.split("<polyline").skip(1).filter(|p| p.contains("stroke=\"#1F77B4\"")) {
        let points = part.split("points=\"").nth(1).and_then(|p| p.split('"').next()).unwrap_or("");
        for pair in points.split_whitespace() {
            let (x, y) = pair.split_once(',').expect("x,y");
            out.push((x.parse().unwrap(), y.parse().unwrap()));
        }
    }
    out
}

#[test]
fn lines_stay_inside_the_frame() {
    let series = zigzag();
    let marks = [Mark { x: 3000.0, label: "test from row 3000".into() }];
    let panel = Panel { chart: chart("Noisy", false, &series), x_ticks: &[], marks: &marks };
    let panels = [panel, panel];
    let layouts: Vec<Layout> = panels.iter().map(|p| Layout::of(p).unwrap()).collect();
    register_bundled_font().unwrap();

    let (svg, frames) = render::render_svg(&panels, &layouts).unwrap();
    assert_eq!(frames.len(), 2);
    let points = svg_line_points(&svg);
    assert!(points.len() > 2 * 3650, "{}", points.len());
    let inside = |(x, y): (i32, i32)| {
        frames.iter().any(|f| (f.x.start..=f.x.end).contains(&x) && (f.y.start..=f.y.end).contains(&y))
    };
    assert!(points.iter().all(|&p| inside(p)), "{:?}", points.iter().find(|&&p| !inside(p)));

    // No pixel of the series' colour outside the frames (2 px for the line's width and smoothing).
    let (png, frames) = render::render_png(&panels, &layouts).unwrap();
    let image = image::load_from_memory(&png).unwrap().to_rgb8();
    assert_eq!(image.dimensions(), (WIDTH, 2 * PANEL_HEIGHT));
    for (x, y, p) in image.enumerate_pixels() {
        let [r, g, b] = p.0;
        let blue = b > 120 && i32::from(b) - i32::from(r) > 60 && i32::from(b) - i32::from(g) > 20;
        let (x, y) = (x as i32, y as i32);
        let near = frames.iter().any(|f| {
            (f.x.start - 2..=f.x.end + 2).contains(&x) && (f.y.start - 2..=f.y.end + 2).contains(&y)
        });
        assert!(!blue || near, "a pixel of the line at ({x}, {y}) lies outside the frames {frames:?}");
    }
}

#[test]
fn marks_and_date_ticks_are_drawn_with_their_labels() {
    let dir = TempDir::new();
    let series = perplexity_series();
    let marks = [Mark { x: 42.0, label: "saved: epoch 42".into() }];
    let ticks = [(25.0, "first quarter".to_string()), (75.0, "third quarter".to_string())];
    let panel = Panel { chart: chart("Curve", true, &series), x_ticks: &ticks, marks: &marks };
    let (png, svg) = write_panels(&dir.0.join("marked"), &[panel]).unwrap();
    check_files(&png, &svg);
    let text = std::fs::read_to_string(&svg).unwrap();
    for label in ["saved: epoch 42", "first quarter", "third quarter"] {
        assert!(text.contains(label), "{label} missing");
    }
    let bad = [Mark { x: f64::NAN, label: "nowhere".into() }];
    let panel = Panel { chart: chart("Curve", true, &series), x_ticks: &[], marks: &bad };
    let err = write_panels(&dir.0.join("bad"), &[panel]).unwrap_err();
    assert!(err.message().contains("nowhere"), "{err}");
}

#[test]
fn epoch_ticks_are_whole_numbers_at_most_about_ten() {
    let labels = |last| epoch_ticks(last).into_iter().map(|(_, l)| l).collect::<Vec<_>>();
    assert_eq!(labels(2), ["1", "2"]);
    assert_eq!(labels(10), (1..=10).map(|e| e.to_string()).collect::<Vec<_>>());
    assert_eq!(labels(13), ["1", "2", "4", "6", "8", "10", "12"]);
    assert_eq!(labels(40), ["1", "5", "10", "15", "20", "25", "30", "35", "40"]);
    assert!(epoch_ticks(100_000).len() <= 101);
}
