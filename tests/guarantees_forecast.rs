//! The engine's guarantees for `recur forecast train` (tests/common/guarantees.rs): a run
//! stopped anywhere (mid-epoch, at an epoch's end, twice) and resumed repeats the uninterrupted
//! run byte for byte, window order and shuffling generator included; Ctrl-C writes a checkpoint
//! and exits 130; `kill -9` never breaks the checkpoint; a NaN stops the run at its batch.

mod common;

use common::cli::*;
use common::guarantees::*;

/// Synthetic series, a validated 2-layer GRU with Adam: 140 training windows in batches of 16,
/// the last one of 12, shuffled every epoch. No `--lr`: the NaN tests give their own.
fn synthetic() -> Run {
    Run::new(
        &["forecast", "train"],
        &[
            "--synthetic",
            "--series",
            "200",
            "--window",
            "12",
            "--horizon",
            "2",
            "--cell",
            "gru",
            "--hidden-size",
            "6",
            "--batch-size",
            "16",
            "--seed",
            "3",
        ],
    )
}

/// A CSV series with a validation part, log and seasonal difference, a sequence-to-sequence LSTM
/// with momentum and clipping.
fn csv(s: &Scratch) -> Run {
    let mut text = String::from("date,value\n");
    for i in 0..120 {
        let v = 200.0 + 2.0 * i as f64 + 30.0 * (i as f64 * std::f64::consts::TAU / 12.0).sin();
        text.push_str(&format!("{}-{:02}-01,{v}\n", 2000 + i / 12, i % 12 + 1));
    }
    let path = s.file("series.csv", text);
    let csv: &'static str = Box::leak(path.display().to_string().into_boxed_str());
    Run::new(
        &["forecast", "train"],
        &[
            "--csv",
            csv,
            "--window",
            "24",
            "--season",
            "12",
            "--test-last",
            "12",
            "--valid-last",
            "12",
            "--log",
            "--diff",
            "12",
            "--mode",
            "seq2seq",
            "--cell",
            "lstm",
            "--layers",
            "1",
            "--hidden-size",
            "5",
            "--batch-size",
            "10",
            "--optimizer",
            "momentum",
            "--lr",
            "0.01",
            "--clip",
            "1",
        ],
    )
}

const FILES: [&str; 2] = ["model.safetensors", "result.json"];

#[test]
fn synthetic_resume_repeats_the_uninterrupted_run() {
    let (g, s) = (synthetic(), Scratch::new("forecast-resume"));
    let batches = batches_per_epoch(&g, &s);
    assert_eq!(batches, 9, "140 windows in batches of 16");
    resume_repeats_the_uninterrupted_run(&g, &s, 3, batches, &FILES);
}

#[test]
fn csv_resume_repeats_the_uninterrupted_run() {
    let s = Scratch::new("forecast-resume-csv");
    let g = csv(&s);
    let batches = batches_per_epoch(&g, &s);
    resume_repeats_the_uninterrupted_run(&g, &s, 3, batches, &FILES);
}

#[test]
fn ctrl_c_writes_a_checkpoint_and_exits_130() {
    let (g, s) = (synthetic(), Scratch::new("forecast-sigint"));
    common::guarantees::ctrl_c_writes_a_checkpoint_and_exits_130(&g, &s);
}

#[test]
fn kill_9_never_breaks_the_checkpoint() {
    let (g, s) = (synthetic(), Scratch::new("forecast-kill9"));
    common::guarantees::kill_9_never_breaks_the_checkpoint(&g, &s, 40);
}

#[test]
fn nan_stops_the_run_at_its_batch() {
    let (g, s) = (synthetic(), Scratch::new("forecast-nan"));
    let dir = nan_stops_the_run_naming_where(&g, &s, &["--lr", "1e30", "--clip", "0"]);
    // The good epochs' run left its files; the diverged resume wrote no table over them.
    assert!(dir.join("model.safetensors").exists());
}

#[test]
fn on_nan_skip_counts_the_skipped_batches() {
    let (g, s) = (synthetic(), Scratch::new("forecast-skip"));
    let dir = s.path("skip");
    let mut args = g.args(1, &dir);
    args.extend(["--lr", "1e30", "--on-nan", "skip"].map(String::from));
    // After the first update every batch overflows: all but the first are skipped, and the epoch's
    // mean is the first batch's loss alone.
    let out = run(&s.root, &args, &[]);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("8 batches skipped"), "{text}");
    let metrics = std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap();
    assert!(metrics.contains("\"skipped\":8"), "{metrics}");
}

/// The shared schedule flags (`cli/flags.rs`): the Zaremba rule halves the rate after its first
/// epoch, and early stopping ends a run whose validation error stops improving, keeping the best.
#[test]
fn lr_rules_and_early_stopping_apply_to_forecasting() {
    let s = Scratch::new("forecast-schedule");
    let g = synthetic();
    let dir = s.path("zaremba");
    let args = g.args_with(
        3,
        &dir,
        &["--lr", "0.01", "--lr-schedule", "zaremba", "--lr-factor", "0.5", "--decay-after", "1"],
    );
    success("zaremba", &run(&s.root, &args, &[]));
    let rates: Vec<f64> = std::fs::read_to_string(dir.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["lr"].as_f64().unwrap())
        .collect();
    assert_eq!(rates, [0.01, 0.005, 0.0025]);

    // A rate this high stops improving at once: patience 2 ends the run long before 60 epochs.
    // `--select best`: the engine's best epoch is kept (the default would also ask whether it
    // beats the linear model beyond chance, tests/forecast_selection.rs).
    let dir = s.path("patience");
    let args = g.args_with(60, &dir, &["--lr", "0.05", "--patience", "2", "--select", "best"]);
    let out = success("patience", &run(&s.root, &args, &[]));
    let lines = std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap().lines().count();
    assert!(lines < 60, "early stopping did not stop: {lines} epochs\n{out}");
    let result = read_json(&dir.join("result.json"));
    assert!(
        result["epoch"].as_u64().unwrap() as usize + 2 == lines,
        "best epoch {} of {lines}",
        result["epoch"]
    );
}
