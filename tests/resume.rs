//! Training you can trust: `recur train --resume` repeats the uninterrupted run digit for digit,
//! Ctrl-C writes a checkpoint and exits 130, `kill -9` in the middle of a save never breaks the
//! previous checkpoint, and a NaN stops the run with a message naming where and what is left.
//!
//! Every run here is on one thread (`RAYON_NUM_THREADS=1`), as the issue asks for the identity.

mod common;

use common::cli::*;
use common::guarantees::{command, curve, run, signal, wait_for};
use recur::io::train_state::{read_progress, CHECKPOINT};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// The shared helpers (`tests/common/guarantees.rs`) take owned arguments.
fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

fn train_on(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    run(cwd, &strings(args), env)
}

fn cmd(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    command(cwd, &strings(args), env)
}

/// A validated 2-layer LSTM with dropout, Adam and the plateau rule on a tiny PTB: every
/// piece of state a checkpoint holds is in play (best weights, learning-rate rule, optimizer
/// moments, carried state, dropout generator, batcher cursor).
fn settings(ptb: &Path, epochs: &str) -> Vec<String> {
    [
        "train",
        "--preset",
        "book-ch6",
        "--data-dir",
        ptb.to_str().unwrap(),
        "--layers",
        "2",
        "--hidden-size",
        "24",
        "--wordvec-size",
        "16",
        "--dropout",
        "0.2",
        "--optimizer",
        "adam",
        "--lr",
        "0.02",
        "--lr-schedule",
        "plateau",
        "--batch-size",
        "4",
        "--time-size",
        "6",
        "--epochs",
        epochs,
        "--seed",
        "3",
    ]
    .map(String::from)
    .to_vec()
}

#[test]
fn resumed_runs_repeat_the_uninterrupted_run_digit_for_digit() {
    let s = Scratch::new("resume");
    let ptb = tiny_ptb(&s);
    let whole = s.path("whole");
    let mut args = settings(&ptb, "5");
    args.extend(["--out".into(), whole.to_str().unwrap().into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    success("uninterrupted", &train_on(&s.root, &args, &[]));
    let expected = curve(&whole);
    assert_eq!(expected.len(), 5);

    // Stops mid-epoch (batch 23 of ~60), exactly at an epoch's end (batch 2 x per-epoch count),
    // and twice in one run (each resumed process stops again after its own count).
    let per_epoch = {
        let p = read_progress(&whole.join(CHECKPOINT)).unwrap();
        // The cursor advances time_size positions a batch and never resets.
        p.task["batcher_cursor"].as_u64().unwrap() as usize / 6 / 5
    };
    for (name, stops) in [
        ("mid-epoch", vec![23]),
        ("epoch-end", vec![2 * per_epoch]),
        ("twice", vec![per_epoch + 7, per_epoch + 11]),
    ] {
        let dir = s.path(name);
        let mut first: Vec<&str> = args.clone();
        let out_at = first.iter().position(|a| *a == "--out").unwrap() + 1;
        first[out_at] = dir.to_str().unwrap();
        let out = train_on(&s.root, &first, &[("RECUR_STOP_AFTER_BATCHES", &stops[0].to_string())]);
        assert_eq!(out.status.code(), Some(130), "{name}: {}{}", stdout(&out), stderr(&out));
        assert!(stdout(&out).contains(&format!("resume with: recur train --resume {}", dir.display())));
        for stop in &stops[1..] {
            let out = train_on(
                &s.root,
                &["train", "--resume", dir.to_str().unwrap()],
                &[("RECUR_STOP_AFTER_BATCHES", &stop.to_string())],
            );
            assert_eq!(out.status.code(), Some(130), "{name}: {}{}", stdout(&out), stderr(&out));
        }
        let out = train_on(&s.root, &["train", "--resume", dir.to_str().unwrap()], &[]);
        let text = success(name, &out);
        assert!(text.contains("resuming"), "{text}");
        assert_eq!(curve(&dir), expected, "{name}: the resumed curve differs");
        for file in ["model.safetensors", "result.json"] {
            assert_eq!(
                std::fs::read(dir.join(file)).unwrap(),
                std::fs::read(whole.join(file)).unwrap(),
                "{name}: {file} differs"
            );
        }
    }
}

#[test]
fn resume_refuses_changed_settings_and_a_finished_run() {
    let s = Scratch::new("resume-refuse");
    let dir = s.path("run");
    let d = dir.to_str().unwrap();
    let args = |epochs: &'static str, out: &Path| -> Vec<String> {
        [
            "train",
            "--corpus",
            "demo",
            "--hidden-size",
            "8",
            "--wordvec-size",
            "8",
            "--epochs",
            epochs,
            "--out",
        ]
        .iter()
        .map(|a| a.to_string())
        .chain([out.to_str().unwrap().to_string()])
        .collect()
    };
    let go = |v: Vec<String>| run(&s.root, &v, &[]);
    success("train", &go(args("2", &dir)));
    failure(
        "resume finished",
        &train_on(&s.root, &["train", "--resume", d], &[]),
        &["finished its 2 epochs", "--epochs"],
    );
    failure(
        "resume with a new size",
        &train_on(&s.root, &["train", "--resume", d, "--hidden-size", "9"], &[]),
        &["--hidden-size", "cannot change"],
    );
    // --epochs extends a finished run; the extension equals a run trained that long at once.
    success("extend", &train_on(&s.root, &["train", "--resume", d, "--epochs", "3"], &[]));
    let once = s.path("once");
    success("three", &go(args("3", &once)));
    assert_eq!(curve(&dir), curve(&once));
    failure(
        "no checkpoint",
        &train_on(&s.root, &["train", "--resume", s.path("nothing").to_str().unwrap()], &[]),
        &["nothing"],
    );
}

#[test]
fn ctrl_c_finishes_the_batch_writes_a_checkpoint_and_exits_130() {
    let s = Scratch::new("sigint");
    let dir = s.path("run");
    let d = dir.to_str().unwrap();
    let long = ["train", "--corpus", "demo", "--cell", "gru", "--epochs", "100000", "--out", d];
    let child = cmd(&s.root, &long, &[]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    wait_for(&dir.join(CHECKPOINT), Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(150));
    signal(&child, "-INT");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}{}", stdout(&out), stderr(&out));
    assert!(stderr(&out).contains("finishing this batch"), "{}", stderr(&out));
    assert!(stdout(&out).contains("resume with: recur train --resume"), "{}", stdout(&out));
    let progress = read_progress(&dir.join(CHECKPOINT)).unwrap();
    assert!(progress.epochs_done >= 1);

    // The interrupted run, resumed to two more epochs, equals a run that never stopped.
    let total = (progress.epochs_done + 2).to_string();
    success("resume", &train_on(&s.root, &["train", "--resume", d, "--epochs", &total], &[]));
    let once = s.path("once");
    let mut whole = long.to_vec();
    whole[6] = &total;
    whole[8] = once.to_str().unwrap();
    success("whole", &train_on(&s.root, &whole, &[]));
    assert_eq!(curve(&dir), curve(&once));

    // SIGTERM does the same; two signals in a row quit at once and leave no broken file.
    let mut child = cmd(&s.root, &["train", "--resume", d, "--epochs", "100000"], &[])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(400));
    signal(&child, "-TERM");
    signal(&child, "-TERM");
    assert_eq!(child.wait().unwrap().code(), Some(130));
    read_progress(&dir.join(CHECKPOINT)).expect("the checkpoint is whole after two signals");
    recur::io::checkpoint::load::<f32>(&dir.join(CHECKPOINT)).expect("its tensors load");
}

#[test]
fn kill_9_during_saves_never_breaks_the_last_checkpoint() {
    let s = Scratch::new("kill9");
    let dir = s.path("run");
    let d = dir.to_str().unwrap();
    // A model large enough that a checkpoint (weights + Adam's two moments, ~6 MB) takes a
    // while to write, on a corpus so small that the run is writing one most of the time.
    let first = [
        "train",
        "--corpus",
        "demo",
        "--corpus-size",
        "200",
        "--cell",
        "lstm",
        "--hidden-size",
        "256",
        "--wordvec-size",
        "64",
        "--optimizer",
        "adam",
        "--batch-size",
        "2",
        "--time-size",
        "10",
        "--epochs",
        "100000",
        "--out",
        d,
    ];
    let mut rng = recur::tensor::Rng::new(9);
    let mut kills = 0;
    let mut last_epochs = 0;
    for round in 0..60 {
        let args: Vec<&str> = if round == 0 { first.to_vec() } else { vec!["train", "--resume", d] };
        let mut child =
            cmd(&s.root, &args, &[]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        if round == 0 {
            wait_for(&dir.join(CHECKPOINT), Duration::from_secs(60));
        }
        std::thread::sleep(Duration::from_millis(20 + rng.below(120) as u64));
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        if status.code().is_none() {
            kills += 1;
        } else {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            panic!("round {round}: recur exited by itself ({status}): {err}");
        }
        let progress = read_progress(&dir.join(CHECKPOINT))
            .unwrap_or_else(|e| panic!("round {round}: the checkpoint is broken after kill -9: {e}"));
        recur::io::checkpoint::load::<f32>(&dir.join(CHECKPOINT))
            .unwrap_or_else(|e| panic!("round {round}: the checkpoint's tensors are broken: {e}"));
        assert!(progress.epochs_done >= last_epochs, "round {round}: the checkpoint went back in time");
        last_epochs = progress.epochs_done;
    }
    assert_eq!(kills, 60);
    assert!(last_epochs > 0);
    // The run goes on from what the kills left.
    let out = train_on(&s.root, &["train", "--resume", d, "--epochs", &(last_epochs + 1).to_string()], &[]);
    success("resume after the kills", &out);
}

#[test]
fn on_nan_skip_counts_skipped_batches_and_a_whole_bad_epoch_stops() {
    let s = Scratch::new("nan");
    let dir = s.path("run");
    let d = dir.to_str().unwrap();
    // The stop itself is tested for every task by `tests/guarantees_*.rs`.
    // --on-nan skip: bad batches are skipped and counted; a whole epoch of them still stops.
    let out = train_on(
        &s.root,
        &[
            "train",
            "--corpus",
            "demo",
            "--lr",
            "1e30",
            "--clip",
            "0",
            "--epochs",
            "3",
            "--on-nan",
            "skip",
            "--out",
            d,
            "--overwrite",
        ],
        &[],
    );
    failure("all skipped", &out, &["epoch 2", "every batch was skipped"]);
    let first: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap().lines().next().unwrap(),
    )
    .unwrap();
    assert!(first["skipped"].as_u64().unwrap() > 0, "{first}");
    assert!(first["train_ppl"].as_f64().unwrap().is_finite());
}
