//! The engine's guarantees for the language model, through the helpers every task uses
//! (`tests/common/guarantees.rs`); `tests/resume.rs` holds the language model's own cases
//! (a validated PTB run with every piece of state in play, refused flags, `--on-nan skip`).

mod common;

use common::cli::*;
use common::guarantees::*;

/// A small GRU with dropout and Adam on the built-in corpus.
fn lm() -> Run {
    Run::new(
        &["train"],
        &[
            "--corpus",
            "demo",
            "--cell",
            "gru",
            "--hidden-size",
            "16",
            "--wordvec-size",
            "8",
            "--dropout",
            "0.1",
            "--optimizer",
            "adam",
            "--lr",
            "0.01",
            "--batch-size",
            "5",
            "--time-size",
            "10",
        ],
    )
}

#[test]
fn lm_resumed_runs_repeat_the_uninterrupted_run() {
    let s = Scratch::new("g-lm-resume");
    let g = lm();
    let batches = batches_per_epoch(&g, &s);
    resume_repeats_the_uninterrupted_run(&g, &s, 3, batches, &["model.safetensors"]);
}

#[test]
fn lm_ctrl_c_writes_a_checkpoint_and_exits_130() {
    let s = Scratch::new("g-lm-sigint");
    ctrl_c_writes_a_checkpoint_and_exits_130(&lm(), &s);
}

#[test]
fn lm_kill_9_never_breaks_the_checkpoint() {
    let s = Scratch::new("g-lm-kill9");
    kill_9_never_breaks_the_checkpoint(&lm(), &s, 40);
}

#[test]
fn lm_nan_stops_the_run_naming_where() {
    let s = Scratch::new("g-lm-nan");
    nan_stops_the_run_naming_where(&lm(), &s, &["--lr", "1e30", "--clip", "0"]);
}

#[test]
fn lm_lr_rule_early_stopping_and_plot() {
    let s = Scratch::new("g-lm-schedule");
    let g = lm();
    the_lr_rule_applies(&g, &s, "0.01");
    // The demo text validated on its own last chapter: Adam at a high rate overfits soon.
    let valid = s.file(
        "valid.txt",
        recur::data::demo::DEMO_TEXT.lines().rev().take(40).collect::<Vec<_>>().join("\n"),
    );
    let valid = valid.to_str().unwrap();
    early_stopping_keeps_the_best(
        &g,
        &s,
        60,
        2,
        "valid_ppl",
        Better::Lower,
        &["--lr", "0.05", "--valid", valid],
    );
    assert!(s.path("patience/perplexity.png").exists(), "the metrics plot");
}
