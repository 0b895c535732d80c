//! The engine's guarantees, tested the same way for every task: a resumed run repeats the
//! uninterrupted one byte for byte, Ctrl-C writes a checkpoint and exits 130, `kill -9` never
//! leaves a checkpoint that fails to load, a NaN stops the run before the update naming where.
//!
//! A task's test file describes a small run ([`Run`]) and calls these. Every process runs on one
//! thread (`RAYON_NUM_THREADS=1`), as the digit-for-digit identity asks.

use super::cli::*;
use recur::io::train_state::{read_progress, CHECKPOINT};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A small training run of one subcommand.
pub struct Run {
    /// The subcommand's words: `["classify", "train"]`.
    pub command: Vec<&'static str>,
    /// Its flags, without `--epochs` and `--out`.
    pub flags: Vec<String>,
}

impl Run {
    pub fn new(command: &[&'static str], flags: &[&str]) -> Self {
        Run { command: command.to_vec(), flags: flags.iter().map(|f| f.to_string()).collect() }
    }

    /// The whole command line of a new run of `epochs` into `out`.
    pub fn args(&self, epochs: usize, out: &Path) -> Vec<String> {
        let mut args: Vec<String> = self.command.iter().map(|c| c.to_string()).collect();
        args.extend(self.flags.iter().cloned());
        args.extend(["--epochs".into(), epochs.to_string(), "--out".into(), out.display().to_string()]);
        args
    }

    /// [`Run::args`] with `extra` flags (`--flag value` pairs) replacing the run's own.
    pub fn args_with(&self, epochs: usize, out: &Path, extra: &[&str]) -> Vec<String> {
        let replaced: Vec<&str> = extra.iter().copied().filter(|f| f.starts_with("--")).collect();
        let mut kept = Vec::new();
        let mut flags = self.flags.iter().peekable();
        while let Some(flag) = flags.next() {
            let value = flags.next_if(|v| !v.starts_with("--"));
            if !replaced.contains(&flag.as_str()) {
                kept.push(flag.clone());
                kept.extend(value.cloned());
            }
        }
        let run = Run {
            command: self.command.clone(),
            flags: kept.into_iter().chain(extra.iter().map(|e| e.to_string())).collect(),
        };
        run.args(epochs, out)
    }

    /// `recur <command> --resume DIR EXTRA...`.
    pub fn resume_args(&self, dir: &Path, extra: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = self.command.iter().map(|c| c.to_string()).collect();
        args.extend(["--resume".into(), dir.display().to_string()]);
        args.extend(extra.iter().map(|e| e.to_string()));
        args
    }

    /// The line an interrupted run prints.
    pub fn resume_line(&self, dir: &Path) -> String {
        format!("resume with: recur {} --resume {}", self.command.join(" "), dir.display())
    }
}

pub fn command(cwd: &Path, args: &[String], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_recur"));
    cmd.args(args).current_dir(cwd).env("RAYON_NUM_THREADS", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

pub fn run(cwd: &Path, args: &[String], env: &[(&str, &str)]) -> Output {
    command(cwd, args, env).output().expect("recur runs")
}

/// Every metrics line without the wall-clock fields (`seconds`, `*_per_s`, `rss_mib`): what
/// must repeat exactly. serde_json prints the shortest form that reads back as the same f64, so
/// equal strings are equal numbers, digit for digit.
pub fn curve(run: &Path) -> Vec<String> {
    std::fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap_or_else(|e| panic!("{}: {e}", run.join("metrics.jsonl").display()))
        .lines()
        .map(|line| {
            let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
            v.as_object_mut()
                .unwrap()
                .retain(|k, _| k != "seconds" && k != "rss_mib" && !k.ends_with("_per_s"));
            v.to_string()
        })
        .collect()
}

/// Batches per epoch of the run, as an interrupted run of it reports them
/// (`interrupted in epoch 1 after batch 1/N`).
pub fn batches_per_epoch(g: &Run, s: &Scratch) -> usize {
    let dir = s.path("count-batches");
    let out = run(&s.root, &g.args(1, &dir), &[("RECUR_STOP_AFTER_BATCHES", "1")]);
    assert_eq!(out.status.code(), Some(130), "{}{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    let of = text.split("after batch 1/").nth(1).unwrap_or_else(|| panic!("no batch count in: {text}"));
    let _ = std::fs::remove_dir_all(&dir);
    of.split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
}

/// Runs `epochs` epochs at once, then the same run stopped after each list of batch counts
/// (each resumed process stops again after its own count) and resumed to the end: the metrics
/// and every file in `files` must be byte-identical. `batches` is the epoch's batch count, so
/// the stops include one mid-epoch and one exactly at an epoch's end.
pub fn resume_repeats_the_uninterrupted_run(
    g: &Run,
    s: &Scratch,
    epochs: usize,
    batches: usize,
    files: &[&str],
) {
    let whole = s.path("whole");
    success("uninterrupted", &run(&s.root, &g.args(epochs, &whole), &[]));
    let expected = curve(&whole);
    assert_eq!(expected.len(), epochs, "the uninterrupted run has one metrics line an epoch");
    let mid = (batches / 2).max(1);
    for (name, stops) in
        [("mid-epoch", vec![batches + mid]), ("epoch-end", vec![batches]), ("twice", vec![mid, batches])]
    {
        let dir = s.path(name);
        let out = run(&s.root, &g.args(epochs, &dir), &[("RECUR_STOP_AFTER_BATCHES", &stops[0].to_string())]);
        assert_eq!(out.status.code(), Some(130), "{name}: {}{}", stdout(&out), stderr(&out));
        assert!(stdout(&out).contains(&g.resume_line(&dir)), "{name}: {}", stdout(&out));
        for stop in &stops[1..] {
            let out =
                run(&s.root, &g.resume_args(&dir, &[]), &[("RECUR_STOP_AFTER_BATCHES", &stop.to_string())]);
            assert_eq!(out.status.code(), Some(130), "{name}: {}{}", stdout(&out), stderr(&out));
        }
        let text = success(name, &run(&s.root, &g.resume_args(&dir, &[]), &[]));
        assert!(text.contains("resuming"), "{text}");
        assert_eq!(curve(&dir), expected, "{name}: the resumed curve differs");
        for file in files {
            assert_eq!(
                std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{name}: {file}: {e}")),
                std::fs::read(whole.join(file)).unwrap(),
                "{name}: {file} differs"
            );
        }
    }
}

/// Sends `signal` to the child (by the system's `kill`).
pub fn signal(child: &Child, signal: &str) {
    let status = Command::new("kill").args([signal, &child.id().to_string()]).status().expect("kill runs");
    assert!(status.success(), "kill {signal} failed");
}

pub fn wait_for(path: &Path, limit: Duration) {
    let start = Instant::now();
    while !path.exists() {
        assert!(start.elapsed() < limit, "{} did not appear in {limit:?}", path.display());
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A real SIGINT in a long run: exit 130, the "finishing this batch" note, a checkpoint that
/// loads, the resume line; then the run resumes. SIGTERM twice quits at once, every file whole.
pub fn ctrl_c_writes_a_checkpoint_and_exits_130(g: &Run, s: &Scratch) {
    let dir = s.path("sigint");
    let child = command(&s.root, &g.args(100_000, &dir), &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(&dir.join(CHECKPOINT), Duration::from_secs(120));
    std::thread::sleep(Duration::from_millis(150));
    signal(&child, "-INT");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}{}", stdout(&out), stderr(&out));
    assert!(stderr(&out).contains("finishing this batch"), "{}", stderr(&out));
    assert!(stdout(&out).contains(&g.resume_line(&dir)), "{}", stdout(&out));
    let progress = read_progress(&dir.join(CHECKPOINT)).unwrap();
    assert!(progress.epochs_done >= 1);
    let more = (progress.epochs_done + 1).to_string();
    success("resume after Ctrl-C", &run(&s.root, &g.resume_args(&dir, &["--epochs", &more]), &[]));

    let mut child = command(&s.root, &g.resume_args(&dir, &["--epochs", "100000"]), &[])
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

/// `rounds` SIGKILLs at random moments of a long run (resumed after each): the checkpoint
/// always loads and never goes back in time; the run then goes on.
pub fn kill_9_never_breaks_the_checkpoint(g: &Run, s: &Scratch, rounds: usize) {
    let dir = s.path("kill9");
    let mut rng = recur::tensor::Rng::new(9);
    let mut last_epochs = 0;
    for round in 0..rounds {
        let args =
            if round == 0 { g.args(100_000, &dir) } else { g.resume_args(&dir, &["--epochs", "100000"]) };
        let mut child =
            command(&s.root, &args, &[]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        if round == 0 {
            wait_for(&dir.join(CHECKPOINT), Duration::from_secs(120));
        }
        std::thread::sleep(Duration::from_millis(20 + rng.below(120) as u64));
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        if status.code().is_some() {
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
    assert!(last_epochs > 0, "no epoch finished in {rounds} rounds");
    let more = (last_epochs + 1).to_string();
    success("resume after the kills", &run(&s.root, &g.resume_args(&dir, &["--epochs", &more]), &[]));
}

/// `nan_flags` (added to the run's, e.g. `--lr 1e30 --clip 0`) make the first update
/// overflow: the run stops at epoch 1, batch 2 saying there is no checkpoint yet. After two good
/// epochs, a resume with those flags stops in epoch 3 naming the checkpoint of epoch 2, which is
/// left untouched, and no NaN reaches the metrics.
pub fn nan_stops_the_run_naming_where(g: &Run, s: &Scratch, nan_flags: &[&str]) -> PathBuf {
    let dir = s.path("nan");
    let args = g.args_with(3, &dir, nan_flags);
    failure(
        "diverged at once",
        &run(&s.root, &args, &[]),
        &["epoch 1, batch 2/", "no checkpoint yet", "--lr"],
    );

    assert!(!dir.exists(), "a run that diverged before its first checkpoint left {}", dir.display());
    success("good epochs", &run(&s.root, &g.args(2, &dir), &[]));
    let checkpoint = dir.join(CHECKPOINT);
    let before = std::fs::read(&checkpoint).unwrap();
    let mut resume = g.resume_args(&dir, &["--epochs", "4"]);
    resume.extend(nan_flags.iter().filter(|f| **f != "--clip" && **f != "0").map(|f| f.to_string()));
    let resume_cmd = format!("recur {} --resume", g.command.join(" "));
    failure(
        "diverged later",
        &run(&s.root, &resume, &[]),
        &["epoch 3, batch ", "(end of epoch 2)", checkpoint.to_str().unwrap(), &resume_cmd],
    );
    assert_eq!(std::fs::read(&checkpoint).unwrap(), before, "the last good checkpoint was touched");
    assert_eq!(read_progress(&checkpoint).unwrap().epochs_done, 2);
    let metrics = std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap();
    assert!(!metrics.contains("NaN") && !metrics.contains("null"), "{metrics}");
    dir
}

/// `--lr-schedule zaremba --lr-factor 0.5 --decay-after 1` at rate `lr`: the metrics' `lr` is
/// lr, lr/2, lr/4 over three epochs.
pub fn the_lr_rule_applies(g: &Run, s: &Scratch, lr: &str) {
    let dir = s.path("zaremba");
    let rule = ["--lr", lr, "--lr-schedule", "zaremba", "--lr-factor", "0.5", "--decay-after", "1"];
    success("zaremba", &run(&s.root, &g.args_with(3, &dir, &rule), &[]));
    let rates: Vec<f64> = std::fs::read_to_string(dir.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["lr"].as_f64().unwrap())
        .collect();
    let lr: f64 = lr.parse().unwrap();
    assert_eq!(rates, [lr, lr * 0.5, lr * 0.25]);
}

/// Which way a validation figure improves.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Lower,
    Higher,
}

/// A run with `--patience N` (and `extra` flags) stops before `epochs`, N epochs after its best
/// epoch by `key`, and the saved `model.safetensors` holds that best epoch's weights (the
/// checkpoint's `best.` tensors), not the last epoch's.
pub fn early_stopping_keeps_the_best(
    g: &Run,
    s: &Scratch,
    epochs: usize,
    patience: usize,
    key: &str,
    better: Better,
    extra: &[&str],
) {
    let dir = s.path("patience");
    let patience_text = patience.to_string();
    let mut flags = vec!["--patience", patience_text.as_str()];
    flags.extend_from_slice(extra);
    success("patience", &run(&s.root, &g.args_with(epochs, &dir, &flags), &[]));
    let scores: Vec<f64> = std::fs::read_to_string(dir.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()[key].as_f64().unwrap())
        .collect();
    assert!(scores.len() < epochs, "early stopping did not stop: {} epochs of {epochs}", scores.len());
    let mut best = 0;
    for (i, &v) in scores.iter().enumerate() {
        let improves = match better {
            Better::Lower => v < scores[best],
            Better::Higher => v > scores[best],
        };
        if improves {
            best = i;
        }
    }
    assert_eq!(scores.len(), best + 1 + patience, "best epoch {} of {:?}", best + 1, scores);
    let saved = recur::io::checkpoint::load::<f32>(&dir.join("model.safetensors")).unwrap();
    let checkpoint = recur::io::checkpoint::load::<f32>(&dir.join(CHECKPOINT)).unwrap();
    let mut compared = 0;
    for (name, value) in &checkpoint {
        if let Some(param) = name.strip_prefix("best.") {
            assert_eq!(saved.get(param), Some(value), "{param}: the saved model is not the best epoch's");
            assert_ne!(
                checkpoint.get(&format!("model.{param}")),
                Some(value),
                "{param}: the last epoch's too"
            );
            compared += 1;
        }
    }
    assert!(compared > 0, "the checkpoint holds no best weights");
}
