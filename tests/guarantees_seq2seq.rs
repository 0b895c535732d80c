//! The engine's guarantees for `recur seq2seq train` (`common::guarantees`: resume byte for byte,
//! Ctrl-C, kill -9, NaN), and what the encoder-decoder adds on the engine: the best epoch's
//! weights are the model kept, early stopping, the learning-rate rule on the held-out accuracy,
//! the flags `--resume` refuses, data that changed under a run, and the summary.

mod common;

use common::cli::{failure, read_json, stdout, success, Scratch};
use common::guarantees::*;
use recur::io::train_state::{read_progress, CHECKPOINT};

/// A tiny run: 270 training pairs in batches of 32 (the last one of 14), 30 held out; two
/// layers and dropout, so the dropout generator and every layer's state are in play.
fn tiny() -> Run {
    Run::new(
        &["seq2seq", "train"],
        &[
            "--addition",
            "--examples",
            "300",
            "--hidden-size",
            "8",
            "--wordvec-size",
            "4",
            "--batch-size",
            "32",
            "--layers",
            "2",
            "--dropout",
            "0.2",
            "--reverse-input",
            "--peeky",
            "--seed",
            "3",
        ],
    )
}

/// A run whose held-out accuracy rises and falls: Adam at a high rate on a small task.
fn noisy(extra: &[&str]) -> Run {
    let mut flags = vec![
        "--addition",
        "--examples",
        "600",
        "--hidden-size",
        "24",
        "--batch-size",
        "16",
        "--lr",
        "0.02",
        "--reverse-input",
        "--peeky",
        "--seed",
        "2",
    ];
    flags.extend_from_slice(extra);
    Run::new(&["seq2seq", "train"], &flags)
}

fn metrics(dir: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn figure(epoch: &serde_json::Value, key: &str) -> f64 {
    epoch[key].as_f64().unwrap_or_else(|| panic!("no {key} in {epoch}"))
}

#[test]
fn resume_repeats_the_uninterrupted_run_byte_for_byte() {
    let (g, s) = (tiny(), Scratch::new("s2s-resume"));
    let batches = batches_per_epoch(&g, &s);
    assert_eq!(batches, 9, "270 pairs in batches of 32");
    resume_repeats_the_uninterrupted_run(
        &g,
        &s,
        3,
        batches,
        &["model.safetensors", "accuracy.svg", "loss.svg", "config.json", "vocab.json"],
    );
}

#[test]
fn ctrl_c_writes_a_checkpoint_and_exits_130() {
    common::guarantees::ctrl_c_writes_a_checkpoint_and_exits_130(&tiny(), &Scratch::new("s2s-sigint"));
}

#[test]
fn kill_9_never_breaks_the_checkpoint() {
    common::guarantees::kill_9_never_breaks_the_checkpoint(&tiny(), &Scratch::new("s2s-kill9"), 40);
}

#[test]
fn nan_stops_the_run_naming_where() {
    let g = Run::new(
        &["seq2seq", "train"],
        &["--addition", "--examples", "300", "--hidden-size", "8", "--optimizer", "sgd"],
    );
    common::guarantees::nan_stops_the_run_naming_where(
        &g,
        &Scratch::new("s2s-nan"),
        &["--lr", "1e30", "--clip", "0"],
    );
}

/// The model saved is the epoch with the best held-out accuracy, not the last; `eval` reports
/// that epoch's figure; the checkpoint names it; plateau divides the rate after every epoch that
/// was not the best so far.
#[test]
fn the_best_epoch_is_the_model_kept() {
    let s = Scratch::new("s2s-best");
    let g = noisy(&["--lr-schedule", "plateau", "--lr-factor", "0.5"]);
    let dir = s.path("run");
    let text = success("noisy run", &run(&s.root, &g.args(8, &dir), &[]));
    let epochs = metrics(&dir);
    let accuracy: Vec<f64> = epochs.iter().map(|e| figure(e, "valid_accuracy")).collect();
    let best = (0..accuracy.len()).fold(0, |b, e| if accuracy[e] > accuracy[b] { e } else { b });
    assert!(
        best + 1 < accuracy.len() && accuracy[accuracy.len() - 1] < accuracy[best],
        "the test needs a run whose last epoch is not its best: {accuracy:?}"
    );
    assert!(
        text.contains(&format!("best held-out accuracy {:.4} (epoch {})", accuracy[best], best + 1)),
        "{text}"
    );
    let progress = read_progress(&dir.join(CHECKPOINT)).unwrap();
    assert_eq!(progress.best.map(|b| b.0), Some(best + 1));
    let plot = std::fs::read_to_string(dir.join("accuracy.svg")).unwrap();
    assert!(plot.contains(&format!("saved: epoch {}", best + 1)), "accuracy.svg marks the saved epoch");
    let out = success(
        "eval",
        &run(&s.root, &["seq2seq".into(), "eval".into(), "--model".into(), dir.display().to_string()], &[]),
    );
    let correct = figure(&epochs[best], "valid_correct");
    let total = figure(&epochs[best], "valid_examples");
    assert_eq!(out.lines().last().unwrap(), format!("accuracy: {:.4} ({correct}/{total})", accuracy[best]));

    // Plateau: the rate is divided by 2 after each epoch whose accuracy was not a new best.
    let mut best_so_far = f64::NEG_INFINITY;
    for e in 0..epochs.len() - 1 {
        let improved = accuracy[e] > best_so_far;
        best_so_far = best_so_far.max(accuracy[e]);
        let (now, next) = (figure(&epochs[e], "lr"), figure(&epochs[e + 1], "lr"));
        let want = if improved { now } else { now / 2.0 };
        assert_eq!(next, want, "epoch {}: lr {now} -> {next} (improved: {improved})", e + 2);
    }
}

/// `--patience 1` ends the run after the first epoch that does not beat the best; resuming it
/// is refused until `--patience` allows more; the model is the best epoch's.
#[test]
fn patience_stops_early_and_resume_needs_more_patience() {
    let s = Scratch::new("s2s-patience");
    let g = noisy(&["--patience", "1"]);
    let dir = s.path("run");
    let text = success("patience 1", &run(&s.root, &g.args(30, &dir), &[]));
    let epochs = metrics(&dir);
    assert!(epochs.len() < 30, "no early stop in 30 epochs");
    assert!(text.contains("early stopping after epoch"), "{text}");
    let accuracy: Vec<f64> = epochs.iter().map(|e| figure(e, "valid_accuracy")).collect();
    let last = accuracy.len() - 1;
    assert!(accuracy[..last].iter().all(|&a| a >= accuracy[last]), "{accuracy:?}");
    failure("resume after early stopping", &run(&s.root, &g.resume_args(&dir, &[]), &[]), &["--patience"]);
    let more = (epochs.len() + 1).to_string();
    let text = success(
        "resume with more patience",
        &run(&s.root, &g.resume_args(&dir, &["--patience", "0", "--epochs", &more]), &[]),
    );
    assert!(text.contains("resuming"), "{text}");
    assert_eq!(metrics(&dir).len(), epochs.len() + 1);
    assert_eq!(read_json(&dir.join("config.json"))["train"]["patience"], 0, "the new patience is recorded");
}

#[test]
fn resume_refuses_flags_that_would_not_apply_and_finished_runs() {
    let (g, s) = (tiny(), Scratch::new("s2s-flags"));
    let dir = s.path("run");
    success("two epochs", &run(&s.root, &g.args(2, &dir), &[]));
    for (flags, named) in [
        (vec!["--hidden-size", "16"], "--hidden-size"),
        (vec!["--layers", "1", "--dropout", "0"], "--layers, --dropout"),
        (vec!["--addition"], "--addition"),
        (vec!["--seed", "1"], "--seed"),
        (vec!["--clip", "1"], "--clip"),
        (vec!["--lr-schedule", "plateau"], "--lr-schedule"),
    ] {
        failure(
            &format!("{flags:?}"),
            &run(&s.root, &g.resume_args(&dir, &flags), &[]),
            &[named, "--resume"],
        );
    }
    failure(
        "finished",
        &run(&s.root, &g.resume_args(&dir, &[]), &[]),
        &["finished its 2 epochs", "--epochs"],
    );
    failure(
        "--tsv for generated data",
        &run(&s.root, &g.resume_args(&dir, &["--epochs", "3", "--tsv", "x.tsv"]), &[]),
        &["addition"],
    );
    let missing = s.path("nowhere");
    failure("no run", &run(&s.root, &g.resume_args(&missing, &[]), &[]), &["nowhere"]);
    // A language model's run is not a seq2seq run.
    let lm = s.path("lm");
    success(
        "lm",
        &run(
            &s.root,
            &["train", "--epochs", "1", "--hidden-size", "8", "--out", lm.to_str().unwrap()]
                .map(String::from),
            &[],
        ),
    );
    failure(
        "an lm run",
        &run(&s.root, &g.resume_args(&lm, &[]), &[]),
        &["is a lm run", "recur train --resume"],
    );
}

/// The pairs of a TSV run are checked when it resumes: the same file moved is fine (`--tsv`),
/// a changed one is refused.
#[test]
fn resume_checks_that_the_data_is_the_runs() {
    let s = Scratch::new("s2s-data");
    let lines: String = (0..80).map(|i| format!("{i}\t{}\n", i * 3)).collect();
    let tsv = s.file("triple.tsv", &lines);
    let g = Run::new(
        &["seq2seq", "train"],
        &["--tsv", tsv.to_str().unwrap(), "--hidden-size", "8", "--batch-size", "16", "--seed", "4"],
    );
    let dir = s.path("run");
    let out = run(&s.root, &g.args(3, &dir), &[("RECUR_STOP_AFTER_BATCHES", "7")]);
    assert_eq!(out.status.code(), Some(130), "{}", stdout(&out));
    let moved = s.file("moved.tsv", &lines);
    std::fs::remove_file(&tsv).unwrap();
    let changed = s.file("changed.tsv", lines.replace("9\t27\n", "9\t28\n"));
    failure(
        "changed data",
        &run(&s.root, &g.resume_args(&dir, &["--tsv", changed.to_str().unwrap()]), &[]),
        &["changed.tsv", "the data changed"],
    );
    failure("the file is gone", &run(&s.root, &g.resume_args(&dir, &[]), &[]), &["triple.tsv"]);
    let text =
        success("moved", &run(&s.root, &g.resume_args(&dir, &["--tsv", moved.to_str().unwrap()]), &[]));
    assert!(text.contains("resuming"), "{text}");
    assert_eq!(metrics(&dir).len(), 3);
    assert_eq!(read_json(&dir.join("config.json"))["train"]["data"]["path"], moved.to_str().unwrap());
}

/// `recur summary` and `recur seq2seq summary` list both sides' layers, stacked and with
/// dropout, and the total matches the model.
#[test]
fn summary_lists_the_stacked_layers() {
    let (g, s) = (tiny(), Scratch::new("s2s-summary"));
    let dir = s.path("run");
    success("one epoch", &run(&s.root, &g.args(1, &dir), &[]));
    let config = read_json(&dir.join("config.json"));
    assert_eq!(config["model"]["num_layers"], 2);
    assert_eq!(config["model"]["dropout"], 0.2);
    let a = success(
        "summary",
        &run(&s.root, &["summary", "--model", dir.to_str().unwrap()].map(String::from), &[]),
    );
    let b = success(
        "seq2seq summary",
        &run(&s.root, &["seq2seq", "summary", "--model", dir.to_str().unwrap()].map(String::from), &[]),
    );
    assert_eq!(a, b);
    for needle in [
        "encoder TimeLSTM[1]",
        "decoder TimeLSTM[1]",
        "decoder.rnn.weight_ih_l1",
        "encoder.rnn.weight_hh_l1",
        "TimeDropout(0.2)",
        "decoder TimeAffine (reads [h | output])",
        "Total params: ",
    ] {
        assert!(a.contains(needle), "{needle} missing:\n{a}");
    }
}

#[test]
fn the_lr_rule_and_early_stopping_apply_to_seq2seq() {
    let s = Scratch::new("s2s-schedule");
    the_lr_rule_applies(&tiny(), &s, "0.01");
    early_stopping_keeps_the_best(&noisy(&[]), &s, 60, 2, "valid_accuracy", Better::Higher, &[]);
    assert!(s.path("patience/loss.png").exists(), "the metrics plot");
}
