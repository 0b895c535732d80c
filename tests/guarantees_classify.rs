//! The engine's guarantees for `recur classify train` (tests/common/guarantees.rs, the same
//! helpers as every task's): a run stopped anywhere (mid-epoch, at an epoch's end, twice) and
//! resumed repeats the uninterrupted run byte for byte, its shuffles and word dropout included;
//! Ctrl-C writes a checkpoint, prints the resume line and exits 130; `kill -9` never breaks the
//! checkpoint; a NaN stops the run before the update, naming the epoch, the batch and the last
//! good checkpoint. And what is the classifier's own: an ensemble resumes member by member to
//! the uninterrupted run's files; `--resume` refuses cross-validations, finished ensembles and
//! flags that would change the run, and notices changed data.

mod common;

use common::cli::{failure, read_json, stdout, success, Scratch};
use common::guarantees::*;
use recur::tensor::Rng;

/// Sentences whose class is set by a sentiment word among filler words.
fn texts(n: usize, seed: u64) -> String {
    let cues = [["bad", "awful", "boring", "hated"], ["good", "great", "wonderful", "loved"]];
    let filler = ["the", "movie", "was", "a", "film", "plot", "acting", "really", "quite", "and"];
    let mut rng = Rng::new(seed);
    let mut out = String::new();
    for i in 0..n {
        let label = i % 2;
        let mut words: Vec<&str> = (0..1 + rng.below(8)).map(|_| filler[rng.below(filler.len())]).collect();
        words.insert(rng.below(words.len() + 1), cues[label][rng.below(4)]);
        out.push_str(&format!("{}\t{label}\n", words.join(" ")));
    }
    out
}

/// 120 texts, 108 trained on in shuffled batches of 8 (14 batches, the last of 4), with
/// dropout, word dropout and weight decay, every epoch run (`--patience 0`).
fn classify_run(s: &Scratch) -> Run {
    let data = s.file("data.tsv", texts(120, 1));
    let data = data.display().to_string();
    let flags = [
        "--data",
        data.as_str(),
        "--batch-size",
        "8",
        "--hidden-size",
        "8",
        "--embed-size",
        "6",
        "--word-dropout",
        "0.2",
        "--weight-decay",
        "0.01",
        "--min-count",
        "1",
        "--patience",
        "0",
        "--ensemble",
        "1",
    ];
    Run::new(&["classify", "train"], &flags)
}

#[test]
fn resumed_runs_repeat_the_uninterrupted_run_byte_for_byte() {
    let s = Scratch::new("classify-resume");
    let g = classify_run(&s);
    let batches = batches_per_epoch(&g, &s);
    assert_eq!(batches, 14);
    resume_repeats_the_uninterrupted_run(
        &g,
        &s,
        3,
        batches,
        &["model.safetensors", "result.json", "loss.svg"],
    );
}

/// An ensemble keeps each member as it finishes; stopped after member 1 and after member 2
/// (each resumed process stopping again), then resumed, it ends with the uninterrupted run's
/// metrics, weights and result; training flags are refused beside its `--resume`.
#[test]
fn an_ensemble_resumes_member_by_member_and_repeats_the_uninterrupted_run() {
    let s = Scratch::new("classify-ensemble-resume");
    let g = classify_run(&s);
    let three = ["--ensemble", "3"];
    let whole = s.path("whole");
    success("uninterrupted", &run(&s.root, &g.args_with(2, &whole, &three), &[]));
    let dir = s.path("stopped");
    let out = run(&s.root, &g.args_with(2, &dir, &three), &[("RECUR_STOP_AFTER_MEMBERS", "1")]);
    assert_eq!(out.status.code(), Some(130), "{}", stdout(&out));
    assert!(
        stdout(&out).contains(&format!("recur classify train --resume {}", dir.display())),
        "{}",
        stdout(&out)
    );
    assert!(dir.join("members/member-1.json").exists() && !dir.join("model.safetensors").exists());
    failure(
        "--epochs beside an ensemble's --resume",
        &run(&s.root, &g.resume_args(&dir, &["--epochs", "5"]), &[]),
        &["member by member", "--epochs cannot change them"],
    );
    let out = run(&s.root, &g.resume_args(&dir, &[]), &[("RECUR_STOP_AFTER_MEMBERS", "2")]);
    assert_eq!(out.status.code(), Some(130), "{}", stdout(&out));
    assert!(stdout(&out).contains("ensemble member 1/3: kept by the interrupted run"), "{}", stdout(&out));
    let text = success("resumed", &run(&s.root, &g.resume_args(&dir, &[]), &[]));
    assert!(text.contains("ensemble member 2/3: kept") && text.contains("ensemble member 3/3"), "{text}");
    assert_eq!(curve(&dir), curve(&whole), "the resumed ensemble's metrics differ");
    for file in ["model.safetensors", "result.json", "loss.svg"] {
        assert_eq!(
            std::fs::read(dir.join(file)).unwrap(),
            std::fs::read(whole.join(file)).unwrap(),
            "{file} differs"
        );
    }
    assert!(!dir.join("members").exists(), "the kept members are removed once the ensemble is saved");
}

#[test]
fn ctrl_c_writes_a_checkpoint_and_the_resume_line() {
    let s = Scratch::new("classify-ctrl-c");
    ctrl_c_writes_a_checkpoint_and_exits_130(&classify_run(&s), &s);
}

#[test]
fn kill_9_never_breaks_the_checkpoint_of_a_classifier() {
    let s = Scratch::new("classify-kill9");
    kill_9_never_breaks_the_checkpoint(&classify_run(&s), &s, 40);
}

#[test]
fn a_nan_stops_the_classifier_naming_where() {
    let s = Scratch::new("classify-nan");
    let g = classify_run(&s);
    let dir = nan_stops_the_run_naming_where(&g, &s, &["--lr", "1e30", "--clip", "0"]);
    assert!(dir.join("model.safetensors").exists());
}

#[test]
fn resume_refuses_cross_validations_finished_ensembles_changed_flags_and_changed_data() {
    let s = Scratch::new("classify-resume-refusals");
    let g = classify_run(&s);

    // A cross-validation keeps no checkpoint; a finished ensemble has nothing left to train:
    // both refused in one line.
    for (name, extra, needles) in [
        ("folds", ["--folds", "3"], ["cross-validation", "cannot be resumed", "start over"]),
        ("ensemble", ["--ensemble", "2"], ["ensemble of 2 finished", "result.json", "new run"]),
    ] {
        let dir = s.path(name);
        let args = g.args_with(1, &dir, &extra);
        success(name, &run(&s.root, &args, &[]));
        assert!(!dir.join("checkpoint.safetensors").exists(), "{name}: a multi-model run wrote a checkpoint");
        assert!(!dir.join("members").exists(), "{name}: the kept members are removed at the end");
        failure(name, &run(&s.root, &g.resume_args(&dir, &[]), &[]), &needles);
    }

    // A single model's run: flags that would change it are refused, naming them.
    let dir = s.path("single");
    let out = run(&s.root, &g.args(2, &dir), &[("RECUR_STOP_AFTER_BATCHES", "20")]);
    assert_eq!(out.status.code(), Some(130), "{}", stdout(&out));
    failure(
        "changed flags",
        &run(&s.root, &g.resume_args(&dir, &["--batch-size", "4", "--cell", "gru", "--epochs", "3"]), &[]),
        &["--cell, --batch-size cannot change them", "--epochs"],
    );
    // Given with the value it already has, a refused flag is refused all the same.
    failure("same value", &run(&s.root, &g.resume_args(&dir, &["--seed", "1"]), &[]), &["--seed cannot"]);

    // The data changed: the vocabulary no longer matches.
    let moved = s.file("moved.tsv", texts(120, 2));
    let moved = moved.display().to_string();
    failure(
        "changed data",
        &run(&s.root, &g.resume_args(&dir, &["--data", &moved]), &[]),
        &["vocab.txt", "the data changed"],
    );
    // A validation file cannot replace the run's held-out split.
    failure(
        "added --valid",
        &run(&s.root, &g.resume_args(&dir, &["--valid", &moved]), &[]),
        &["--valid", "held out --valid-share"],
    );
    // The same texts moved elsewhere: --data says where, and the run goes on.
    let copy = s.file("copy.tsv", texts(120, 1)).display().to_string();
    let text = success("moved data", &run(&s.root, &g.resume_args(&dir, &["--data", &copy]), &[]));
    assert!(text.contains("resuming") && text.contains("batch 6/14"), "{text}");
    assert_eq!(read_json(&dir.join("config.json"))["train"]["data"], copy);
    assert_eq!(curve(&dir).len(), 2);
}

#[test]
fn the_lr_rule_and_early_stopping_apply_to_the_classifier() {
    let s = Scratch::new("classify-schedule");
    let g = classify_run(&s);
    the_lr_rule_applies(&g, &s, "0.01");
    early_stopping_keeps_the_best(&g, &s, 60, 2, "valid_loss", Better::Lower, &["--lr", "0.05"]);
    assert!(s.path("patience/loss.png").exists(), "the metrics plot");
}
